import { Logger } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Agent, request, type Dispatcher } from 'undici';
import { nowIso } from '../../common/time.util';
import { decodeBolt11, type LightningNetwork } from '../bolt11.util';
import type {
  BackendInvoice,
  BackendInvoiceState,
  BackendListener,
  LightningBackend,
  NodeSnapshot,
  PaymentOutcome,
  SendPaymentInput,
} from './lightning-backend';

/** Connection settings of an LND node's REST API (`LND_*` environment variables). */
export interface LndConfig {
  /** e.g. `https://127.0.0.1:8080` */
  url: string;
  /** PEM of the node's TLS certificate (`tls.cert`): the only CA trusted for this connection (pinned). */
  tlsCertPem: string;
  /** Macaroon (binary `admin.macaroon` file content, or its hex), sent hex-encoded in `Grpc-Metadata-macaroon`. */
  macaroonHex: string;
  network: LightningNetwork;
  /** Timeout of unary calls (ms). */
  timeoutMs: number;
  /** Seconds LND may spend routing one payment (SendPaymentV2 `timeout_seconds`). */
  paymentTimeoutS?: number;
}

/** Reads `LND_TLS_CERT_PATH` / `LND_MACAROON_PATH` (or `LND_MACAROON_HEX`). @throws Error naming what is missing. */
export function lndConfigFromEnv(env: {
  LND_REST_URL?: string;
  LND_TLS_CERT_PATH?: string;
  LND_MACAROON_PATH?: string;
  LND_MACAROON_HEX?: string;
  LND_TIMEOUT_MS: number;
  LIGHTNING_NETWORK: LightningNetwork;
}): LndConfig {
  if (!env.LND_REST_URL) throw new Error('LIGHTNING_BACKEND=lnd needs LND_REST_URL (e.g. https://127.0.0.1:8080)');
  if (!env.LND_TLS_CERT_PATH) throw new Error('LIGHTNING_BACKEND=lnd needs LND_TLS_CERT_PATH (the node\'s tls.cert, pinned)');
  let macaroonHex = env.LND_MACAROON_HEX ?? '';
  if (!macaroonHex) {
    if (!env.LND_MACAROON_PATH) throw new Error('LIGHTNING_BACKEND=lnd needs LND_MACAROON_PATH or LND_MACAROON_HEX');
    macaroonHex = readFileSync(env.LND_MACAROON_PATH).toString('hex');
  }
  return { url: env.LND_REST_URL.replace(/\/$/, ''), tlsCertPem: readFileSync(env.LND_TLS_CERT_PATH, 'utf8'), macaroonHex, network: env.LIGHTNING_NETWORK, timeoutMs: env.LND_TIMEOUT_MS };
}

/** An error answered by LND (`{ code, message }`, gRPC status codes) or by the transport. */
export class LndError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | null,
    readonly grpcCode: number | null,
  ) {
    super(message);
    this.name = 'LndError';
  }

  /** gRPC NOT_FOUND (5): unknown invoice / payment. */
  get notFound(): boolean {
    return this.grpcCode === 5 || this.httpStatus === 404;
  }
}

interface LndPayment {
  payment_hash: string;
  status: 'UNKNOWN' | 'IN_FLIGHT' | 'SUCCEEDED' | 'FAILED' | 'INITIATED';
  payment_preimage?: string;
  fee_msat?: string;
  value_msat?: string;
  failure_reason?: string;
}

interface LndInvoice {
  r_hash: string;
  payment_request: string;
  state: 'OPEN' | 'SETTLED' | 'CANCELED' | 'ACCEPTED';
  r_preimage?: string;
  settle_date?: string;
  amt_paid_msat?: string;
  value_msat?: string;
  add_index?: string;
  settle_index?: string;
}

const b64ToHex = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('hex') : '');

/** Splits a byte stream into lines (UTF-8 decoded across chunk boundaries). */
async function* ndjson(body: AsyncIterable<Buffer>): AsyncGenerator<Record<string, unknown>> {
  const dec = new StringDecoder('utf8');
  let buf = '';
  for await (const chunk of body) {
    buf += dec.write(chunk);
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) yield JSON.parse(line) as Record<string, unknown>;
    }
  }
  const rest = (buf + dec.end()).trim();
  if (rest) yield JSON.parse(rest) as Record<string, unknown>;
}

/**
 * LND over its REST API (`LIGHTNING_BACKEND=lnd`): GetInfo, AddInvoice, LookupInvoice, SubscribeInvoices (resumed
 * from the last settle_index after a drop), SendPaymentV2 and TrackPaymentV2 (newline-delimited `{"result": …}`
 * streams), ListInvoices, ListPayments, ChannelBalance. Authenticates with the macaroon in `Grpc-Metadata-macaroon`;
 * trusts only the node's own TLS certificate (pinned as the sole CA). Secrets never appear in errors or logs.
 * A payment's stream that ends early is followed by TrackPaymentV2; a payment LND never initiated is `unknown`.
 */
export class LndRestBackend implements LightningBackend {
  readonly name = 'lnd' as const;
  readonly network: LightningNetwork;
  private readonly logger = new Logger('LndRest');
  private readonly agent: Agent;
  private pubkey = '';
  private listener: BackendListener | null = null;
  private closed = false;
  private settleIndex = '0';
  private subscription: AbortController | null = null;
  private subscriptionLoop: Promise<void> | null = null;
  /** True while the invoice subscription stream is open (for tests and health). */
  subscribed = false;

  constructor(private readonly cfg: LndConfig) {
    this.network = cfg.network;
    this.agent = new Agent({ connect: { ca: cfg.tlsCertPem, rejectUnauthorized: true }, keepAliveTimeout: 10_000 });
  }

  /** GetInfo (checks reachability, macaroon, TLS pin and network), then starts the invoice subscription. */
  async init(): Promise<void> {
    const info = await this.getInfo();
    if (info.network !== this.network) throw new Error(`LND is on ${info.network}, LIGHTNING_NETWORK is ${this.network}`);
    this.subscriptionLoop = this.subscribeLoop();
  }

  nodePubkey(): string {
    return this.pubkey;
  }

  setListener(listener: BackendListener): void {
    this.listener = listener;
  }

  async getInfo() {
    const r = await this.call<{ identity_pubkey: string; block_height: number; synced_to_chain: boolean; chains?: { network: string }[] }>('GET', '/v1/getinfo');
    this.pubkey = r.identity_pubkey;
    const net = (r.chains?.[0]?.network ?? 'mainnet') as LightningNetwork;
    return { pubkey: r.identity_pubkey, network: net, blockHeight: r.block_height, synced: r.synced_to_chain, backend: 'lnd' };
  }

  async createInvoice(input: { amountMsat: number; memo: string; expirySeconds: number }): Promise<BackendInvoice> {
    const r = await this.call<{ r_hash: string; payment_request: string }>('POST', '/v1/invoices', {
      value_msat: String(input.amountMsat),
      memo: input.memo,
      expiry: String(input.expirySeconds),
    });
    const d = decodeBolt11(r.payment_request, this.network);
    return { paymentHash: b64ToHex(r.r_hash), bolt11: r.payment_request, expiresAt: new Date(d.expiresAtMs).toISOString() };
  }

  async lookupInvoice(paymentHash: string): Promise<BackendInvoiceState> {
    try {
      return this.invoiceState(await this.call<LndInvoice>('GET', `/v1/invoice/${paymentHash}`));
    } catch (err) {
      if (err instanceof LndError && err.notFound) return { state: 'unknown' };
      throw err;
    }
  }

  private invoiceState(inv: LndInvoice): BackendInvoiceState {
    if (inv.state === 'SETTLED') {
      return {
        state: 'settled',
        preimage: b64ToHex(inv.r_preimage),
        settledAt: inv.settle_date && inv.settle_date !== '0' ? new Date(Number(inv.settle_date) * 1000).toISOString() : nowIso(),
        amountPaidMsat: Number(inv.amt_paid_msat ?? 0),
      };
    }
    return { state: inv.state === 'CANCELED' ? 'canceled' : 'open' };
  }

  async sendPayment(input: SendPaymentInput): Promise<PaymentOutcome> {
    const d = decodeBolt11(input.bolt11, this.network);
    const body: Record<string, unknown> = {
      payment_request: input.bolt11,
      fee_limit_msat: String(input.maxFeeMsat),
      timeout_seconds: this.cfg.paymentTimeoutS ?? 60,
    };
    if (d.amountMsat === null) body.amt_msat = String(input.amountMsat);
    let last: PaymentOutcome = { status: 'unknown' };
    try {
      last = await this.followPaymentStream('POST', '/v2/router/send', body);
    } catch (err) {
      // refused before sending (500, bad macaroon, ...): the caller keeps the hold and the sweep tracks it. ALREADY_EXISTS
      // (6, LND has a payment for this hash) and a transport error mid-stream are followed by tracking: never pay twice.
      if (err instanceof LndError && err.httpStatus !== null && err.grpcCode !== 6) throw err;
    }
    if (last.status === 'succeeded' || last.status === 'failed') return last;
    return this.followPaymentStream('GET', `/v2/router/track/${input.paymentHash}`).catch((err: unknown) => {
      if (err instanceof LndError && err.notFound) return { status: 'unknown' } as const;
      return last.status === 'in_flight' ? last : ({ status: 'in_flight' } as const);
    });
  }

  async trackPayment(paymentHash: string): Promise<PaymentOutcome> {
    try {
      return await this.followPaymentStream('GET', `/v2/router/track/${paymentHash}`, undefined, true);
    } catch (err) {
      if (err instanceof LndError && err.notFound) return { status: 'unknown' };
      throw err;
    }
  }

  /**
   * Reads a SendPaymentV2/TrackPaymentV2 stream until a final state (or, with `firstOnly`, the first update).
   * Returns the last state seen (`in_flight` when the stream ended before the end).
   */
  private async followPaymentStream(method: 'GET' | 'POST', path: string, body?: unknown, firstOnly = false): Promise<PaymentOutcome> {
    const ac = new AbortController();
    // a payment may stay IN_FLIGHT for minutes between updates: no body timeout unless only the first update is wanted
    const res = await this.open(method, path, body, firstOnly ? AbortSignal.any([ac.signal, AbortSignal.timeout(this.cfg.timeoutMs)]) : ac.signal, !firstOnly);
    let last: PaymentOutcome = { status: 'in_flight' };
    try {
      for await (const msg of ndjson(res.body as AsyncIterable<Buffer>)) {
        if (msg.error) {
          const e = msg.error as { code?: number; message?: string };
          throw new LndError(`LND: ${e.message ?? 'stream error'}`, null, e.code ?? null);
        }
        const p = (msg.result ?? msg) as LndPayment;
        if (p.status === 'SUCCEEDED') return { status: 'succeeded', preimage: p.payment_preimage ?? '', feeMsat: Number(p.fee_msat ?? 0) };
        if (p.status === 'FAILED') return { status: 'failed', reason: p.failure_reason ?? 'FAILURE_REASON_ERROR' };
        last = { status: 'in_flight' };
        if (firstOnly) return last;
      }
    } finally {
      ac.abort();
    }
    return last;
  }

  /** SubscribeInvoices, resumed from the last settle_index seen; reconnects with backoff until closed. */
  private async subscribeLoop(): Promise<void> {
    let backoff = 200;
    while (!this.closed) {
      const ac = new AbortController();
      this.subscription = ac;
      try {
        const res = await this.open('GET', `/v1/invoices/subscribe?settle_index=${this.settleIndex}`, undefined, ac.signal, true);
        this.subscribed = true;
        backoff = 200;
        for await (const msg of ndjson(res.body as AsyncIterable<Buffer>)) {
          const inv = (msg.result ?? msg) as LndInvoice;
          if (inv.state !== 'SETTLED') continue;
          if (inv.settle_index && BigInt(inv.settle_index) > BigInt(this.settleIndex)) this.settleIndex = inv.settle_index;
          const st = this.invoiceState(inv);
          try {
            await this.listener?.invoiceSettled(b64ToHex(inv.r_hash), st.preimage!, st.settledAt!);
          } catch (err) {
            this.logger.warn(`settle of ${b64ToHex(inv.r_hash)} not applied: ${(err as Error).message}`);
          }
        }
      } catch (err) {
        if (this.closed) break;
        this.logger.warn(`invoice subscription dropped: ${(err as Error).message}`);
      }
      this.subscribed = false;
      if (this.closed) break;
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(5000, backoff * 2);
    }
  }

  async snapshot(): Promise<NodeSnapshot> {
    const bal = await this.call<{ local_balance?: { msat?: string } }>('GET', '/v1/balance/channels');
    const invoices: NodeSnapshot['invoices'] = [];
    for (let offset = '0'; ; ) {
      const r = await this.call<{ invoices: LndInvoice[]; last_index_offset: string }>('GET', `/v1/invoices?num_max_invoices=1000&index_offset=${offset}`);
      for (const i of r.invoices) {
        invoices.push({ paymentHash: b64ToHex(i.r_hash), state: i.state === 'SETTLED' ? 'settled' : i.state === 'CANCELED' ? 'canceled' : 'open', amountMsat: i.value_msat ? Number(i.value_msat) : null });
      }
      if (r.invoices.length < 1000) break;
      offset = r.last_index_offset;
    }
    const payments: NodeSnapshot['payments'] = [];
    for (let offset = '0'; ; ) {
      const r = await this.call<{ payments: LndPayment[]; last_index_offset: string }>('GET', `/v1/payments?include_incomplete=true&max_payments=1000&index_offset=${offset}`);
      for (const p of r.payments) {
        payments.push({
          paymentHash: p.payment_hash,
          status: p.status === 'SUCCEEDED' ? 'succeeded' : p.status === 'FAILED' ? 'failed' : 'in_flight',
          amountMsat: Number(p.value_msat ?? 0),
          feeMsat: Number(p.fee_msat ?? 0),
        });
      }
      if (r.payments.length < 1000) break;
      offset = r.last_index_offset;
    }
    return { channelBalanceMsat: Number(bal.local_balance?.msat ?? 0), invoices, payments };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listener = null;
    this.subscription?.abort();
    await this.subscriptionLoop?.catch(() => undefined);
    await this.agent.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------- HTTP

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await this.open(method, path, body, AbortSignal.timeout(this.cfg.timeoutMs));
    const text = await res.body.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new LndError(`LND ${path}: response is not JSON`, res.statusCode, null);
    }
  }

  /** Opens a request; a non-2xx answer is read and thrown as LndError (LND's `{ code, message }`). */
  private async open(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal, stream = false): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${this.cfg.url}${path}`, {
        method,
        dispatcher: this.agent,
        signal,
        headers: { 'Grpc-Metadata-macaroon': this.cfg.macaroonHex, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        headersTimeout: this.cfg.timeoutMs,
        bodyTimeout: stream ? 0 : this.cfg.timeoutMs,
      });
    } catch (err) {
      throw new LndError(`LND ${method} ${path.split('?')[0]}: ${(err as Error).message}`, null, null);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const text = await res.body.text().catch(() => '');
    let parsed: { code?: number; message?: string } = {};
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch {
      // not JSON
    }
    const msg = (parsed.message ?? text).slice(0, 200);
    throw new LndError(`LND ${method} ${path.split('?')[0]} answered ${res.statusCode}: ${msg}`, res.statusCode, parsed.code ?? null);
  }
}
