import { execFileSync } from 'node:child_process';
import { createECDH, createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeBolt11, encodeBolt11 } from '../../ledger/bolt11.util';

/** A self-signed certificate for 127.0.0.1/localhost, made with openssl at test time. */
export function makeCert(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fake-lnd-tls-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=fake-lnd', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type FailureReason = 'FAILURE_REASON_NO_ROUTE' | 'FAILURE_REASON_TIMEOUT' | 'FAILURE_REASON_INSUFFICIENT_BALANCE' | 'FAILURE_REASON_INCORRECT_PAYMENT_DETAILS';

/** How the fake node will route a payment to one of its "remote" invoices. */
export interface PaymentPlan {
  outcome: 'SUCCEEDED' | 'FAILED';
  reason?: FailureReason;
  feeMsat?: number;
  /** Stays IN_FLIGHT this long before the outcome (ms). */
  inFlightMs?: number;
  /** Cut the SendPaymentV2 stream after the first IN_FLIGHT update (the payment goes on on the node). */
  cutStream?: boolean;
}

interface Invoice {
  rHash: Buffer;
  preimage: Buffer;
  bolt11: string;
  valueMsat: number;
  state: 'OPEN' | 'SETTLED' | 'CANCELED';
  addIndex: number;
  settleIndex: number;
  settleDate: number;
}

interface Payment {
  hash: string;
  status: 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED';
  valueMsat: number;
  feeMsat: number;
  preimage: string;
  failureReason: string;
  index: number;
  /** Called on every status change (stream subscribers). */
  watchers: Set<() => void>;
}

/**
 * (Lives under src/bench/support so `pnpm bench:ledger` can run it from dist; the ledger specs import it too.)
 *
 * A protocol-faithful fake of LND's REST API over HTTPS (certificate generated at test time), for the ledger's LND
 * backend: `GET /v1/getinfo`, `POST /v1/invoices`, `GET /v1/invoice/{r_hash hex}`, `GET /v1/invoices`,
 * `GET /v1/invoices/subscribe?settle_index=` (newline-delimited `{"result": Invoice}`, replays settles after the
 * index), `POST /v2/router/send` and `GET /v2/router/track/{hash}` (streams of `{"result": Payment}`),
 * `GET /v1/payments`, `GET /v1/balance/channels`. JSON shapes follow LND: bytes base64 (`r_hash`, `r_preimage`),
 * hex in router payments, 64-bit integers as strings, gRPC errors as `{ code, message }` (5 NOT_FOUND, 6 ALREADY_EXISTS,
 * 2 for a bad macaroon). Every request needs `Grpc-Metadata-macaroon` = the expected hex.
 *
 * Faults: `fail500` (paths answering 500), `hang` (paths that never answer), `cutSubscriptions()` (drops every invoice
 * stream), per-invoice `PaymentPlan`s (IN_FLIGHT for a while then SUCCEEDED/FAILED with a reason, stream cut
 * mid-payment).
 */
export class FakeLnd {
  readonly tls = makeCert();
  readonly macaroonHex = randomBytes(32).toString('hex');
  private readonly ecdh = createECDH('secp256k1');
  private readonly remoteKey = createECDH('secp256k1');
  private server: Server | null = null;
  private readonly invoices = new Map<string, Invoice>();
  private readonly remote = new Map<string, { preimage: string; plan: PaymentPlan }>();
  private readonly payments = new Map<string, Payment>();
  private readonly subscribers = new Set<ServerResponse>();
  private addIndex = 0;
  private settleIndex = 0;
  private paymentIndex = 0;
  /** Channel balance the node starts with (msat). */
  balanceMsat = 0;
  readonly fail500 = new Set<string>();
  readonly hang = new Set<string>();
  /** Number of SendPaymentV2 calls per payment hash (to prove nothing is sent twice). */
  readonly sendCalls = new Map<string, number>();
  url = '';

  constructor(readonly network: 'regtest' = 'regtest') {
    this.ecdh.generateKeys();
    this.remoteKey.generateKeys();
  }

  get pubkey(): string {
    return this.ecdh.getPublicKey('hex', 'compressed');
  }

  async start(): Promise<void> {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `https://127.0.0.1:${(this.server!.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.subscribers) s.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Drops every open invoice subscription (a stream cut). */
  cutSubscriptions(): void {
    for (const s of this.subscribers) s.destroy();
    this.subscribers.clear();
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** An outside payer pays one of the node's invoices. */
  settle(hashHex: string): void {
    const inv = this.invoices.get(hashHex);
    if (!inv || inv.state !== 'OPEN') throw new Error(`invoice ${hashHex} not open`);
    inv.state = 'SETTLED';
    inv.settleIndex = ++this.settleIndex;
    inv.settleDate = Math.floor(Date.now() / 1000);
    this.balanceMsat += inv.valueMsat;
    for (const s of this.subscribers) s.write(JSON.stringify({ result: this.invoiceJson(inv) }) + '\n');
  }

  /** An invoice of a remote node that this node can pay, routed as `plan` says. */
  remoteInvoice(amountMsat: number, plan: PaymentPlan): { bolt11: string; paymentHash: string } {
    const preimage = randomBytes(32).toString('hex');
    const paymentHash = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex');
    const bolt11 = encodeBolt11({
      network: this.network,
      privateKeyHex: this.remoteKey.getPrivateKey('hex').padStart(64, '0'),
      paymentHash,
      paymentSecret: randomBytes(32).toString('hex'),
      amountMsat,
      description: 'remote',
      expirySeconds: 3600,
    });
    this.remote.set(paymentHash, { preimage, plan });
    return { bolt11, paymentHash };
  }

  payment(hash: string): { status: string; feeMsat: number } | undefined {
    const p = this.payments.get(hash);
    return p && { status: p.status, feeMsat: p.feeMsat };
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    const path = url.pathname;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>) : {};
    const route = `${req.method} ${path.replace(/\/[0-9a-f]{64}$/, '/{hash}')}`;
    if (this.hang.has(route)) return; // never answers
    if (req.headers['grpc-metadata-macaroon'] !== this.macaroonHex) return this.error(res, 500, 2, 'verification failed: signature mismatch after caveat verification');
    if (this.fail500.has(route)) return this.error(res, 500, 13, 'internal error (injected)');
    switch (route) {
      case 'GET /v1/getinfo':
        return this.json(res, { identity_pubkey: this.pubkey, block_height: 800123, synced_to_chain: true, chains: [{ chain: 'bitcoin', network: this.network }] });
      case 'POST /v1/invoices': {
        const preimage = randomBytes(32);
        const rHash = createHash('sha256').update(preimage).digest();
        const valueMsat = Number(body.value_msat ?? Number(body.value ?? 0) * 1000);
        const bolt11 = encodeBolt11({
          network: this.network,
          privateKeyHex: this.ecdh.getPrivateKey('hex').padStart(64, '0'),
          paymentHash: rHash.toString('hex'),
          paymentSecret: randomBytes(32).toString('hex'),
          amountMsat: valueMsat || null,
          description: body.memo ?? '',
          expirySeconds: Number(body.expiry ?? 86400),
        });
        const inv: Invoice = { rHash, preimage, bolt11, valueMsat, state: 'OPEN', addIndex: ++this.addIndex, settleIndex: 0, settleDate: 0 };
        this.invoices.set(rHash.toString('hex'), inv);
        return this.json(res, { r_hash: rHash.toString('base64'), payment_request: bolt11, add_index: String(inv.addIndex), payment_addr: randomBytes(32).toString('base64') });
      }
      case 'GET /v1/invoice/{hash}': {
        const inv = this.invoices.get(path.slice(-64));
        if (!inv) return this.error(res, 404, 5, 'unable to locate invoice');
        return this.json(res, this.invoiceJson(inv));
      }
      case 'GET /v1/invoices': {
        const offset = Number(url.searchParams.get('index_offset') ?? 0);
        const max = Number(url.searchParams.get('num_max_invoices') ?? 100);
        const list = [...this.invoices.values()].filter((i) => i.addIndex > offset).slice(0, max);
        return this.json(res, { invoices: list.map((i) => this.invoiceJson(i)), last_index_offset: String(list.at(-1)?.addIndex ?? offset), first_index_offset: String(list[0]?.addIndex ?? 0) });
      }
      case 'GET /v1/invoices/subscribe': {
        const after = Number(url.searchParams.get('settle_index') ?? 0);
        res.writeHead(200, { 'content-type': 'application/json' });
        // replay settles after the given index (LND's resume semantics), then stream live
        for (const inv of [...this.invoices.values()].filter((i) => i.settleIndex > after).sort((a, b) => a.settleIndex - b.settleIndex)) {
          res.write(JSON.stringify({ result: this.invoiceJson(inv) }) + '\n');
        }
        this.subscribers.add(res);
        res.on('close', () => this.subscribers.delete(res));
        return;
      }
      case 'POST /v2/router/send':
        return this.send(res, body);
      case 'GET /v2/router/track/{hash}': {
        const p = this.payments.get(path.slice(-64));
        if (!p) return this.error(res, 404, 5, "payment isn't initiated");
        return this.stream(res, p, false);
      }
      case 'GET /v1/payments': {
        const list = [...this.payments.values()].sort((a, b) => a.index - b.index);
        return this.json(res, { payments: list.map((p) => this.paymentJson(p)), first_index_offset: '1', last_index_offset: String(list.at(-1)?.index ?? 0) });
      }
      case 'GET /v1/balance/channels':
        return this.json(res, { local_balance: { sat: String(Math.floor(this.balanceMsat / 1000)), msat: String(this.balanceMsat) }, remote_balance: { sat: '0', msat: '0' } });
      default:
        return this.error(res, 404, 12, `unknown route ${route}`);
    }
  }

  private send(res: ServerResponse, body: Record<string, string>): void {
    const bolt11 = body.payment_request ?? '';
    let hash: string;
    try {
      hash = decodeBolt11(bolt11, this.network).paymentHash;
    } catch {
      return this.error(res, 400, 3, 'invalid payment request');
    }
    this.sendCalls.set(hash, (this.sendCalls.get(hash) ?? 0) + 1);
    if (this.payments.has(hash)) return this.error(res, 409, 6, 'invoice is already paid');
    // an invoice the fake does not know has no route (LND answers FAILED / NO_ROUTE in the stream)
    const r = this.remote.get(hash) ?? { preimage: '', plan: { outcome: 'FAILED' as const, reason: 'FAILURE_REASON_NO_ROUTE' as const } };
    const valueMsat = Number(body.amt_msat ?? 0) || (decodeBolt11(bolt11, this.network).amountMsat ?? 0);
    const p: Payment = { hash, status: 'IN_FLIGHT', valueMsat, feeMsat: 0, preimage: '', failureReason: 'FAILURE_REASON_NONE', index: ++this.paymentIndex, watchers: new Set() };
    this.payments.set(hash, p);
    const finish = () => {
      const fee = r.plan.feeMsat ?? 0;
      if (r.plan.outcome === 'SUCCEEDED' && fee <= Number(body.fee_limit_msat ?? Infinity) && valueMsat + fee <= this.balanceMsat) {
        p.status = 'SUCCEEDED';
        p.feeMsat = fee;
        p.preimage = r.preimage;
        this.balanceMsat -= valueMsat + fee;
      } else {
        p.status = 'FAILED';
        p.failureReason = r.plan.outcome === 'SUCCEEDED' ? 'FAILURE_REASON_INSUFFICIENT_BALANCE' : (r.plan.reason ?? 'FAILURE_REASON_NO_ROUTE');
      }
      for (const w of p.watchers) w();
    };
    setTimeout(finish, r.plan.inFlightMs ?? 0);
    this.stream(res, p, r.plan.cutStream ?? false);
  }

  /** Streams a payment's updates: the current state, then every change until final (or cut after the first). */
  private stream(res: ServerResponse, p: Payment, cut: boolean): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    const write = () => res.write(JSON.stringify({ result: this.paymentJson(p) }) + '\n');
    write();
    if (cut) {
      res.destroy();
      return;
    }
    if (p.status !== 'IN_FLIGHT') return void res.end();
    const w = () => {
      write();
      if (p.status !== 'IN_FLIGHT') {
        p.watchers.delete(w);
        res.end();
      }
    };
    p.watchers.add(w);
    res.on('close', () => p.watchers.delete(w));
  }

  private invoiceJson(i: Invoice) {
    return {
      r_hash: i.rHash.toString('base64'),
      r_preimage: i.state === 'SETTLED' ? i.preimage.toString('base64') : '',
      payment_request: i.bolt11,
      value_msat: String(i.valueMsat),
      state: i.state,
      add_index: String(i.addIndex),
      settle_index: String(i.settleIndex),
      settle_date: String(i.settleDate),
      amt_paid_msat: i.state === 'SETTLED' ? String(i.valueMsat) : '0',
    };
  }

  private paymentJson(p: Payment) {
    return {
      payment_hash: p.hash,
      status: p.status,
      payment_preimage: p.status === 'SUCCEEDED' ? p.preimage : '0'.repeat(64),
      value_msat: String(p.valueMsat),
      fee_msat: String(p.feeMsat),
      failure_reason: p.failureReason,
      payment_index: String(p.index),
    };
  }

  private json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private error(res: ServerResponse, status: number, code: number, message: string): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ code, message, details: [] }));
  }
}
