import { createHash, timingSafeEqual } from 'node:crypto';
import { importMacaroon, newMacaroon, bytesToBase64, type Macaroon } from 'macaroon';
import { l402Error } from './l402.errors';

/**
 * L402 tokens (https://github.com/lightninglabs/L402, "LSAT" before 2023): a macaroon bound to a Lightning payment.
 *
 * - Identifier (66 bytes, the layout of Lightning Labs' aperture): `version` uint16 big-endian (0) ||
 *   `payment_hash` (32 bytes) || `token_id` (32 random bytes). The payment_hash is what ties the token to its invoice.
 * - First-party caveats (all must hold; an unknown caveat refuses the token):
 *   - `services=<service>:0` (tier 0): the priced routes the token may call;
 *   - `<service>_price_msat=<msat>`: what was paid (the invoice amount, msat); the route's current price must not be
 *     higher;
 *   - `expires_at=<unix seconds>`: the token is refused from that second on.
 * - Signature: macaroon HMAC chain from the server's root key (32 random bytes kept in `meta.l402_root_key`). The token
 *   never carries a secret and verification never takes a key from it (the prototype's bug).
 * - Wire: binary V2 macaroon, base64 (std alphabet with padding when we issue it; URL-safe or unpadded is accepted).
 *   Challenge: `WWW-Authenticate: L402 macaroon="<base64>", invoice="<bolt11>"`. Credentials:
 *   `Authorization: L402 <base64 macaroon>:<preimage hex>` (scheme `LSAT` accepted too).
 */

/** Identifier version we issue. */
export const L402_ID_VERSION = 0;
/** Bytes of an identifier: 2 (version) + 32 (payment_hash) + 32 (token id). */
export const L402_ID_BYTES = 66;
/** Location field of our macaroons (informational, not verified). */
export const L402_LOCATION = 'timmy-time-mission-control';
/** Longest Authorization value we parse (a 3-caveat macaroon is ~250 base64 chars). */
export const L402_MAX_AUTH_CHARS = 4096;

const HEX64 = /^[0-9a-fA-F]{64}$/;
const B64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** What the identifier binds. Hex strings are lowercase. */
export interface L402Identifier {
  version: number;
  paymentHash: string;
  tokenId: string;
}

/** The caveats of a token we issue (service, price in msat, expiry in unix seconds). */
export interface L402Grant {
  service: string;
  priceMsat: number;
  expiresAtS: number;
}

/** A parsed `Authorization: L402 <macaroon>:<preimage>` header. `preimage` is lowercase hex (not yet checked). */
export interface L402Credentials {
  scheme: 'L402' | 'LSAT';
  macaroon: string;
  preimage: string;
}

/** Encodes the 66-byte identifier. @throws Error when a hash / token id is not 64 hex chars (a programming error). */
export function encodeIdentifier(id: { paymentHash: string; tokenId: string }): Uint8Array {
  if (!HEX64.test(id.paymentHash) || !HEX64.test(id.tokenId)) throw new Error('paymentHash and tokenId must be 64 hex chars');
  const buf = Buffer.alloc(L402_ID_BYTES);
  buf.writeUInt16BE(L402_ID_VERSION, 0);
  Buffer.from(id.paymentHash, 'hex').copy(buf, 2);
  Buffer.from(id.tokenId, 'hex').copy(buf, 34);
  return new Uint8Array(buf);
}

/** Decodes an identifier. @throws AppError 401 `l402/invalid_macaroon` for another length or version. */
export function decodeIdentifier(bytes: Uint8Array): L402Identifier {
  const buf = Buffer.from(bytes);
  if (buf.length !== L402_ID_BYTES) throw l402Error('l402/invalid_macaroon', 'macaroon identifier is not an L402 identifier (66 bytes)', 401);
  const version = buf.readUInt16BE(0);
  if (version !== L402_ID_VERSION) throw l402Error('l402/invalid_macaroon', `unsupported L402 identifier version ${version}`, 401);
  return { version, paymentHash: buf.subarray(2, 34).toString('hex'), tokenId: buf.subarray(34, 66).toString('hex') };
}

/**
 * Mints a token for `paymentHash` with the caveats of `grant`. `rootKey` is the server's secret (32 bytes).
 * @returns the macaroon as standard base64 with padding (binary V2).
 */
export function mintToken(rootKey: Uint8Array, id: { paymentHash: string; tokenId: string }, grant: L402Grant): string {
  const m = newMacaroon({ identifier: encodeIdentifier(id), location: L402_LOCATION, rootKey, version: 2 });
  m.addFirstPartyCaveat(`services=${grant.service}:0`);
  m.addFirstPartyCaveat(`${grant.service}_price_msat=${grant.priceMsat}`);
  m.addFirstPartyCaveat(`expires_at=${grant.expiresAtS}`);
  return Buffer.from(m.exportBinary()).toString('base64');
}

/** The challenge header value: `L402 macaroon="<base64>", invoice="<bolt11>"`. */
export function challengeHeader(macaroon: string, bolt11: string): string {
  return `L402 macaroon="${macaroon}", invoice="${bolt11}"`;
}

/** True when an Authorization header value uses the L402 or LSAT scheme (case-insensitive). */
export function isL402Authorization(header: unknown): boolean {
  return typeof header === 'string' && /^\s*(L402|LSAT)(\s|$)/i.test(header);
}

/**
 * Parses an Authorization header value of scheme L402 or LSAT (case-insensitive, RFC 7235):
 * `<scheme> <base64 macaroon>:<64 hex preimage>`. Returns null for other schemes (Bearer, absent).
 * @throws AppError 401 `l402/malformed_authorization` (no `:`, several macaroons, over 4096 chars, empty parts),
 *   `l402/invalid_macaroon` (not base64), `l402/invalid_preimage` (not 64 hex chars).
 */
export function parseAuthorization(header: string | undefined): L402Credentials | null {
  if (!header) return null;
  const m = /^(L402|LSAT)(?:\s+(.*))?$/is.exec(header.trim());
  if (!m) return null;
  const scheme = m[1].toUpperCase() as 'L402' | 'LSAT';
  const rest = (m[2] ?? '').trim();
  if (rest.length === 0 || rest.length > L402_MAX_AUTH_CHARS) {
    throw l402Error('l402/malformed_authorization', `Authorization must be "${scheme} <base64 macaroon>:<preimage hex>"`, 401);
  }
  const colon = rest.lastIndexOf(':');
  if (colon <= 0 || colon === rest.length - 1) {
    throw l402Error('l402/malformed_authorization', `Authorization must be "${scheme} <base64 macaroon>:<preimage hex>"`, 401);
  }
  const macaroon = rest.slice(0, colon).trim();
  const preimage = rest.slice(colon + 1).trim();
  if (macaroon.includes(',')) throw l402Error('l402/malformed_authorization', 'exactly one macaroon is accepted (no discharge macaroons)', 401);
  if (!B64.test(macaroon)) throw l402Error('l402/invalid_macaroon', 'the macaroon is not base64', 401);
  if (!HEX64.test(preimage)) throw l402Error('l402/invalid_preimage', 'the preimage must be 32 bytes as 64 hex characters', 401);
  return { scheme, macaroon, preimage: preimage.toLowerCase() };
}

/** Decodes a base64 binary V2 macaroon and its L402 identifier. @throws AppError 401 `l402/invalid_macaroon`. */
export function decodeToken(b64: string): { macaroon: Macaroon; id: L402Identifier } {
  let macaroon: Macaroon;
  try {
    macaroon = importMacaroon(b64);
  } catch {
    throw l402Error('l402/invalid_macaroon', 'the macaroon cannot be decoded (base64 of a binary V2 macaroon expected)', 401);
  }
  if (macaroon.caveats.some((c) => c.vid !== undefined)) throw l402Error('l402/invalid_macaroon', 'third-party caveats are not supported', 401);
  return { macaroon, id: decodeIdentifier(macaroon.identifier) };
}

/**
 * Checks the signature chain from `rootKey` (the server's key, never one from the token) and then every caveat for
 * a call of `service` at `nowS` (unix seconds) whose current price is `priceMsat`.
 * @returns the granted service, paid price (msat) and expiry (unix s).
 * @throws AppError 401: `l402/invalid_signature` (not minted with our key, or altered), `l402/wrong_service`,
 *   `l402/token_expired`, `l402/price_mismatch` (paid less than the route costs now), `l402/caveat_failed`
 *   (an unknown, repeated or malformed caveat, or a required one missing).
 */
export function verifyToken(macaroon: Macaroon, rootKey: Uint8Array, call: { service: string; nowS: number; priceMsat: number }): L402Grant {
  try {
    // caveats are judged below, after we know the chain is ours: a forged token gets "invalid signature", not a
    // caveat error that would tell the forger which caveat to change
    macaroon.verify(rootKey, () => null);
  } catch {
    throw l402Error('l402/invalid_signature', 'the macaroon signature does not verify (not issued by this server, or altered)', 401);
  }
  const seen = new Map<string, string>();
  for (const c of macaroon.caveats) {
    const text = Buffer.from(c.identifier).toString('utf8');
    const eq = text.indexOf('=');
    if (eq <= 0) throw l402Error('l402/caveat_failed', 'a caveat is not key=value', 401);
    const key = text.slice(0, eq);
    // a holder may only narrow a macaroon: a repeated key must not widen it, so we refuse repeats outright
    if (seen.has(key)) throw l402Error('l402/caveat_failed', `caveat ${key.slice(0, 40)} appears more than once`, 401);
    seen.set(key, text.slice(eq + 1));
  }
  const services = seen.get('services');
  const expires = seen.get('expires_at');
  if (services === undefined || expires === undefined) throw l402Error('l402/caveat_failed', 'the token lacks its services or expires_at caveat', 401);
  const granted = services.split(',').map((s) => s.trim().split(':')[0]);
  if (!granted.includes(call.service)) throw l402Error('l402/wrong_service', `the token is for ${granted.join(', ').slice(0, 80)}, not ${call.service}`, 401);
  const priceKey = `${call.service}_price_msat`;
  const priceText = seen.get(priceKey);
  if (priceText === undefined || !/^\d{1,16}$/.test(priceText)) throw l402Error('l402/caveat_failed', `the token lacks a valid ${priceKey} caveat`, 401);
  if (!/^\d{1,12}$/.test(expires)) throw l402Error('l402/caveat_failed', 'expires_at must be unix seconds', 401);
  for (const key of seen.keys()) {
    if (key !== 'services' && key !== 'expires_at' && !key.endsWith('_price_msat')) throw l402Error('l402/caveat_failed', `unknown caveat ${key.slice(0, 40)}`, 401);
  }
  const expiresAtS = Number(expires);
  if (call.nowS >= expiresAtS) throw l402Error('l402/token_expired', `the token expired at ${new Date(expiresAtS * 1000).toISOString()}`, 401);
  const paidMsat = Number(priceText);
  if (paidMsat < call.priceMsat) throw l402Error('l402/price_mismatch', `the token paid ${paidMsat} msat; ${call.service} costs ${call.priceMsat} msat now`, 401);
  return { service: call.service, priceMsat: paidMsat, expiresAtS };
}

/**
 * True when sha256(preimage bytes) equals `paymentHash` (both hex), compared in constant time. The L402 proof of
 * payment: only the payer (whose wallet got the preimage when the invoice settled) or the node knows it.
 */
export function preimageMatches(preimageHex: string, paymentHash: string): boolean {
  const got = createHash('sha256').update(Buffer.from(preimageHex, 'hex')).digest();
  const want = Buffer.from(paymentHash, 'hex');
  return want.length === 32 && timingSafeEqual(got, want);
}

/** URL-safe form of a token (some clients send it so); re-exported so tests use the package's own encoder. */
export function toUrlSafe(b64: string): string {
  return bytesToBase64(Buffer.from(b64, 'base64'));
}
