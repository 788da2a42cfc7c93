import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Principal } from '@app/contracts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SESSION_COOKIE } from '../../auth/auth.constants';
import { AppError } from '../../common/app-error';
import { nowIso } from '../../common/time.util';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventLogWriter } from '../../event-log/event-log.writer';
import { LedgerTransactionEntity } from '../entities/ledger-transaction.entity';
import { LedgerService } from '../ledger.service';
import { parseL402Routes, type L402ServiceName } from './l402-config';
import { L402RedemptionEntity } from './l402-redemption.entity';
import { challengeHeader, decodeToken, isL402Authorization, mintToken, parseAuthorization, preimageMatches, verifyToken, type L402Credentials } from './l402-token';
import { l402Error } from './l402.errors';

/** Key of the server's macaroon root key in `meta` (32 random bytes, base64url). Never logged or returned. */
export const L402_ROOT_KEY_META = 'l402_root_key';

/** What the guard attaches to an L402-authenticated request (`req.l402`), for the release interceptor. */
export interface L402Redemption {
  paymentHash: string;
  tokenId: string;
  service: L402ServiceName;
  amountMsat: number;
}

/** The principal of an L402 caller: anonymous, read-only everywhere, admitted only to the one priced route it paid. */
export type L402Principal = Principal & { kind: 'l402'; sessionId: null };

/** Body details of a 402 (the macaroon itself travels only in the WWW-Authenticate header). */
export interface L402ChallengeDetails {
  service: L402ServiceName;
  invoice: string;
  paymentHash: string;
  amountSats: number;
  amountMsat: number;
  expiresAt: string;
}

/** Who issues L402 invoices (LedgerService.createInvoice only refuses agents crediting other accounts). */
const ISSUER: Principal = { kind: 'l402', userId: null, username: 'l402', role: 'operator', agentId: null, apiKeyId: null };

/**
 * L402 pay-per-use (issue 8, ADR 0011; spec https://github.com/lightninglabs/L402). Configured by `L402_ROUTES`
 * (service -> price in sats) and `L402_TOKEN_TTL_S`; off when no route is priced.
 *
 * - `gate` is called by the global AuthGuard before API-key / session authentication. On a priced route a request
 *   with no credentials gets 402 + `WWW-Authenticate: L402 macaroon="...", invoice="..."`: a fresh invoice through
 *   `LedgerService.createInvoice` (crediting the treasury, idempotency key `l402:<token id>`) and a macaroon for it.
 * - `Authorization: L402 <macaroon>:<preimage>` (or `LSAT`) is verified with the server's root key: identifier and
 *   signature, caveats (service, price, expiry), sha256(preimage) = payment_hash, and the ledger's invoice for that
 *   hash (ours, this token's, settled, the paid amount). Then the token is redeemed once (`ledger_l402_redemptions`):
 *   a replay is refused. Any refusal writes nothing.
 * - `release` undoes a redemption when the route then fails, so the paid call can be retried with the same token.
 */
@Injectable()
export class L402Service implements OnModuleInit {
  private readonly logger = new Logger('L402');
  /** Priced services, price in sats. */
  readonly prices: ReadonlyMap<L402ServiceName, number>;
  private rootKey: Uint8Array | null = null;
  private readonly challengesByIp = new Map<string, number>();
  private windowStart = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly ledger: LedgerService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.prices = parseL402Routes(config.L402_ROUTES);
  }

  async onModuleInit(): Promise<void> {
    if (this.prices.size === 0) return;
    this.rootKey = await this.loadRootKey();
    this.logger.log(`L402 on: ${[...this.prices].map(([s, p]) => `${s} ${p} sats`).join(', ')}; tokens valid ${this.config.L402_TOKEN_TTL_S} s`);
  }

  /** True when `service` is priced (L402 on for its route). */
  priced(service: string | undefined): service is L402ServiceName {
    return service !== undefined && this.prices.has(service as L402ServiceName);
  }

  /**
   * The AuthGuard hook. Returns the L402 principal when the request carries a valid L402/LSAT token for `service`,
   * null when ordinary authentication should run (the route is not priced and no L402 header was sent, or the caller
   * sent an API key / session cookie).
   * @throws AppError 402 `l402/payment_required` (no credentials on a priced route; the challenge header is set on
   *   `reply`), 429 `l402/rate_limited` (over L402_CHALLENGES_PER_MIN), 402 `l402/invoice_unpaid`, 401 for every
   *   refused token (see `authorize`), 401 `l402/not_priced` (an L402 header on a route that is not priced).
   */
  async gate(req: FastifyRequest & { l402?: L402Redemption }, reply: FastifyReply, service: string | undefined): Promise<L402Principal | null> {
    const header = req.headers.authorization;
    const l402Scheme = isL402Authorization(header);
    if (!this.priced(service)) {
      if (l402Scheme) throw l402Error('l402/not_priced', 'This route is not priced: L402 tokens are not accepted here (use an API key or a session)', 401);
      return null;
    }
    if (l402Scheme) {
      const creds = parseAuthorization(header)!;
      const { principal, redemption } = await this.authorize(creds, service, reply);
      req.l402 = redemption;
      return principal;
    }
    if (header || req.cookies?.[SESSION_COOKIE]) return null; // API key or session: ordinary auth, unaffected
    this.countChallenge(req.ip);
    throw await this.challenge(service, reply);
  }

  /**
   * Issues a challenge for `service`: creates the invoice (price * 1000 msat, expiry L402_TOKEN_TTL_S) and mints its
   * macaroon, sets `WWW-Authenticate` on `reply` and returns the 402 error to throw.
   * @throws AppError from `LedgerService.createInvoice` (503 `ledger/backend_error` when the node is down).
   */
  async challenge(service: L402ServiceName, reply: FastifyReply): Promise<AppError> {
    const priceSats = this.prices.get(service)!;
    const amountMsat = priceSats * 1000;
    const ttl = this.config.L402_TOKEN_TTL_S;
    const tokenId = randomBytes(32).toString('hex');
    const inv = await this.ledger.createInvoice(
      { amountMsat, memo: `L402 ${service}`, expirySeconds: ttl, idempotencyKey: `l402:${tokenId}` },
      ISSUER,
    );
    const expiresAtS = Math.floor(Date.now() / 1000) + ttl;
    const macaroon = mintToken(this.key(), { paymentHash: inv.paymentHash, tokenId }, { service, priceMsat: amountMsat, expiresAtS });
    void reply.header('www-authenticate', challengeHeader(macaroon, inv.bolt11!));
    const details: L402ChallengeDetails = { service, invoice: inv.bolt11!, paymentHash: inv.paymentHash, amountSats: priceSats, amountMsat, expiresAt: inv.expiresAt! };
    return l402Error(
      'l402/payment_required',
      `Payment required: pay the invoice (${priceSats} sats), then send Authorization: L402 <macaroon>:<preimage hex> (macaroon from WWW-Authenticate)`,
      402,
      details,
    );
  }

  /**
   * Verifies an L402 token for one call of `service` and redeems it (once).
   * @throws AppError 401 `l402/invalid_macaroon`, `l402/invalid_signature`, `l402/wrong_service`, `l402/token_expired`,
   *   `l402/price_mismatch`, `l402/caveat_failed` (see `verifyToken`); 401 `l402/preimage_mismatch` (sha256(preimage)
   *   is not the token's payment_hash); 401 `l402/unknown_payment` (no invoice of this token in the ledger); 402
   *   `l402/invoice_unpaid` (the invoice is still pending: the same challenge is sent again, nothing is created);
   *   401 `l402/invoice_not_payable` (expired or failed); 401 `l402/token_used` (already redeemed).
   */
  async authorize(creds: L402Credentials, service: L402ServiceName, reply?: FastifyReply): Promise<{ principal: L402Principal; redemption: L402Redemption }> {
    const { macaroon, id } = decodeToken(creds.macaroon);
    const priceMsat = this.prices.get(service)! * 1000;
    const grant = verifyToken(macaroon, this.key(), { service, nowS: Math.floor(Date.now() / 1000), priceMsat });
    if (!preimageMatches(creds.preimage, id.paymentHash)) {
      throw l402Error('l402/preimage_mismatch', 'sha256(preimage) does not equal the payment_hash of this token', 401);
    }
    let t = await this.dataSource.getRepository(LedgerTransactionEntity).findOne({ where: { type: 'incoming', paymentHash: id.paymentHash } });
    if (!t || t.idempotencyKey !== `l402:${id.tokenId}`) throw l402Error('l402/unknown_payment', 'the ledger has no invoice for this token', 401);
    if (t.amountMsat !== grant.priceMsat) throw l402Error('l402/price_mismatch', 'the invoice amount does not match the token', 401);
    if (t.status === 'pending') t = await this.refreshFromNode(t);
    if (t.status === 'pending') {
      if (reply) void reply.header('www-authenticate', challengeHeader(creds.macaroon, t.bolt11!));
      throw l402Error('l402/invoice_unpaid', 'The invoice of this token is not paid yet: pay it, then retry with its preimage', 402, { paymentHash: t.paymentHash, invoice: t.bolt11 });
    }
    if (t.status !== 'settled') throw l402Error('l402/invoice_not_payable', `The invoice of this token is ${t.status}: request a new one`, 401);
    const redemption: L402Redemption = { paymentHash: id.paymentHash, tokenId: id.tokenId, service, amountMsat: grant.priceMsat };
    await this.redeem(redemption);
    const principal: L402Principal = {
      kind: 'l402',
      userId: null,
      username: `l402:${id.tokenId.slice(0, 16)}`,
      role: 'viewer',
      agentId: null,
      apiKeyId: null,
      sessionId: null,
    };
    return { principal, redemption };
  }

  /**
   * Fixed one-minute window of challenges per client IP (this instance), bounded by the IPs seen in one minute.
   * @throws AppError 429 `l402/rate_limited` over L402_CHALLENGES_PER_MIN (nothing is written).
   */
  private countChallenge(ip: string): void {
    const limit = this.config.L402_CHALLENGES_PER_MIN;
    if (limit === 0) return;
    const now = Date.now();
    if (now - this.windowStart >= 60_000) {
      this.challengesByIp.clear();
      this.windowStart = now;
    }
    const n = (this.challengesByIp.get(ip) ?? 0) + 1;
    this.challengesByIp.set(ip, n);
    if (n > limit) throw l402Error('l402/rate_limited', `Too many payment challenges from this address (${limit} a minute): retry later`, 429);
  }

  /** Undoes a redemption (the route refused the call after it was admitted). Never throws; logs a failure. */
  async release(r: L402Redemption): Promise<void> {
    try {
      await this.events.write(({ manager }) => manager.delete(L402RedemptionEntity, { paymentHash: r.paymentHash }));
    } catch (err) {
      this.logger.warn(`releasing L402 redemption ${r.paymentHash} failed: ${(err as Error).message}`);
    }
  }

  /** A pending invoice the payer may just have paid: ask the node, apply a settle the ledger has not seen yet. */
  private async refreshFromNode(t: LedgerTransactionEntity): Promise<LedgerTransactionEntity> {
    const st = await this.ledger.backend.lookupInvoice(t.paymentHash).catch(() => null);
    if (st?.state !== 'settled' || !st.preimage) return t;
    await this.ledger.invoiceSettled(t.paymentHash, st.preimage, st.settledAt ?? nowIso());
    return (await this.dataSource.getRepository(LedgerTransactionEntity).findOne({ where: { id: t.id } })) ?? t;
  }

  /** Inserts the redemption row once. @throws AppError 401 `l402/token_used`. */
  private async redeem(r: L402Redemption): Promise<void> {
    const used = () => l402Error('l402/token_used', 'This L402 token was already used: one paid token buys one call', 401);
    const now = nowIso();
    try {
      await this.events.write(async ({ manager }) => {
        if (await manager.exists(L402RedemptionEntity, { where: { paymentHash: r.paymentHash } })) throw used();
        await manager.insert(L402RedemptionEntity, { ...r, createdAt: now, updatedAt: now });
      });
    } catch (err) {
      if (err instanceof AppError) throw err;
      // two instances redeeming at once on PostgreSQL: the primary key lets one in; the other lands here
      if (await this.dataSource.getRepository(L402RedemptionEntity).exists({ where: { paymentHash: r.paymentHash } })) throw used();
      throw err;
    }
  }

  private key(): Uint8Array {
    if (!this.rootKey) throw new AppError('l402/not_ready', 'L402 is not initialised', 503);
    return this.rootKey;
  }

  /** Reads (or creates once across instances: insert-if-absent, read back) the root key in `meta`. */
  private async loadRootKey(): Promise<Uint8Array> {
    const key = this.dataSource.driver.escape('key');
    const read = async () => ((await this.dataSource.query(`SELECT value FROM meta WHERE ${key} = '${L402_ROOT_KEY_META}'`)) as { value: string }[])[0]?.value;
    let value = await read();
    if (!value) {
      const fresh = randomBytes(32).toString('base64url');
      await this.events.write(({ manager }) =>
        manager.query(`INSERT INTO meta (${key}, value) VALUES ('${L402_ROOT_KEY_META}', '${fresh}') ON CONFLICT (${key}) DO NOTHING`),
      );
      value = await read();
    }
    if (!value) throw new Error('L402 root key missing after insert');
    return new Uint8Array(Buffer.from(value, 'base64url'));
  }
}
