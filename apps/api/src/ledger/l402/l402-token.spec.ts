import { createHash, randomBytes } from 'node:crypto';
import { importMacaroon } from 'macaroon';
import { loadConfig } from '../../config/app-config';
import { parseL402Routes } from './l402-config';
import {
  challengeHeader,
  decodeIdentifier,
  decodeToken,
  encodeIdentifier,
  L402_ID_BYTES,
  mintToken,
  parseAuthorization,
  preimageMatches,
  verifyToken,
} from './l402-token';

const hex = () => randomBytes(32).toString('hex');
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? (err as Error).message;
  }
  return undefined;
};

describe('L402 tokens', () => {
  const rootKey = new Uint8Array(randomBytes(32));
  const preimage = hex();
  const paymentHash = createHash('sha256').update(Buffer.from(preimage, 'hex')).digest('hex');
  const tokenId = hex();
  const now = 1_800_000_000;
  const grant = { service: 'tasks', priceMsat: 10_000, expiresAtS: now + 60 };
  const sut = mintToken(rootKey, { paymentHash, tokenId }, grant);

  it('identifier: version 0 || payment_hash || token id (66 bytes, aperture layout), round trip', () => {
    const bytes = encodeIdentifier({ paymentHash, tokenId });
    expect(bytes.length).toBe(L402_ID_BYTES);
    expect(Buffer.from(bytes).subarray(0, 2).toString('hex')).toBe('0000');
    expect(decodeIdentifier(bytes)).toEqual({ version: 0, paymentHash, tokenId });
    expect(codeOf(() => decodeIdentifier(bytes.subarray(1)))).toBe('l402/invalid_macaroon');
    const v1 = Buffer.from(bytes);
    v1.writeUInt16BE(1, 0);
    expect(codeOf(() => decodeIdentifier(v1))).toBe('l402/invalid_macaroon');
  });

  it('a minted token is a real V2 macaroon with the three caveats and no secret in it', () => {
    const m = importMacaroon(sut);
    expect(m.caveats.map((c) => Buffer.from(c.identifier).toString('utf8'))).toEqual(['services=tasks:0', 'tasks_price_msat=10000', `expires_at=${now + 60}`]);
    expect(Buffer.from(sut, 'base64').includes(Buffer.from(rootKey))).toBe(false);
    expect(decodeToken(sut).id).toEqual({ version: 0, paymentHash, tokenId });
  });

  it('verifies with the server key for its service before expiry; refuses other key, service, expiry, price', () => {
    const { macaroon } = decodeToken(sut);
    expect(verifyToken(macaroon, rootKey, { service: 'tasks', nowS: now, priceMsat: 10_000 })).toEqual(grant);
    expect(verifyToken(macaroon, rootKey, { service: 'tasks', nowS: now, priceMsat: 5_000 }).priceMsat).toBe(10_000); // price lowered since
    expect(codeOf(() => verifyToken(macaroon, new Uint8Array(randomBytes(32)), { service: 'tasks', nowS: now, priceMsat: 10_000 }))).toBe('l402/invalid_signature');
    expect(codeOf(() => verifyToken(macaroon, rootKey, { service: 'chat', nowS: now, priceMsat: 10_000 }))).toBe('l402/wrong_service');
    expect(codeOf(() => verifyToken(macaroon, rootKey, { service: 'tasks', nowS: now + 60, priceMsat: 10_000 }))).toBe('l402/token_expired');
    expect(codeOf(() => verifyToken(macaroon, rootKey, { service: 'tasks', nowS: now, priceMsat: 20_000 }))).toBe('l402/price_mismatch');
  });

  it('a holder may not widen a token: an added caveat that repeats a key, or an unknown one, is refused', () => {
    const widened = decodeToken(sut).macaroon;
    widened.addFirstPartyCaveat('services=chat:0'); // signature stays valid (caveats chain), the repeat is refused
    expect(codeOf(() => verifyToken(widened, rootKey, { service: 'chat', nowS: now, priceMsat: 1 }))).toBe('l402/caveat_failed');
    const unknown = decodeToken(sut).macaroon;
    unknown.addFirstPartyCaveat('ip=127.0.0.1');
    expect(codeOf(() => verifyToken(unknown, rootKey, { service: 'tasks', nowS: now, priceMsat: 10_000 }))).toBe('l402/caveat_failed');
  });

  it('preimage check: sha256(preimage) = payment_hash only', () => {
    expect(preimageMatches(preimage, paymentHash)).toBe(true);
    expect(preimageMatches(hex(), paymentHash)).toBe(false);
  });

  it('parses L402 / LSAT Authorization headers and refuses malformed ones with clear codes', () => {
    expect(parseAuthorization(`L402 ${sut}:${preimage}`)).toEqual({ scheme: 'L402', macaroon: sut, preimage });
    expect(parseAuthorization(`lsat ${sut}:${preimage.toUpperCase()}`)).toEqual({ scheme: 'LSAT', macaroon: sut, preimage });
    expect(parseAuthorization('Bearer mck_x')).toBeNull();
    expect(parseAuthorization(undefined)).toBeNull();
    expect(parseAuthorization('L402x abc')).toBeNull();
    expect(codeOf(() => parseAuthorization('L402'))).toBe('l402/malformed_authorization');
    expect(codeOf(() => parseAuthorization(`L402 ${sut}`))).toBe('l402/malformed_authorization');
    expect(codeOf(() => parseAuthorization(`L402 ${sut},${sut}:${preimage}`))).toBe('l402/malformed_authorization');
    expect(codeOf(() => parseAuthorization(`L402 ${'A'.repeat(5000)}:${preimage}`))).toBe('l402/malformed_authorization');
    expect(codeOf(() => parseAuthorization(`L402 ab$cd:${preimage}`))).toBe('l402/invalid_macaroon');
    expect(codeOf(() => parseAuthorization(`L402 ${sut}:1234`))).toBe('l402/invalid_preimage');
    expect(codeOf(() => decodeToken(Buffer.from('not a macaroon').toString('base64')))).toBe('l402/invalid_macaroon');
  });

  it('challenge header in the L402 format', () => {
    expect(challengeHeader('AgE=', 'lnbcrt1')).toBe('L402 macaroon="AgE=", invoice="lnbcrt1"');
  });
});

describe('L402 configuration', () => {
  it('parses L402_ROUTES (sats per service); blank = off', () => {
    expect([...parseL402Routes('tasks:1000, chat:50')]).toEqual([
      ['tasks', 1000],
      ['chat', 50],
    ]);
    expect(parseL402Routes(undefined).size).toBe(0);
    expect(parseL402Routes('  ').size).toBe(0);
  });

  it('a bad value stops the boot (validateEnv) with the reason', () => {
    for (const bad of ['tasks', 'tasks:0', 'tasks:1000001', 'nope:5', 'tasks:5,tasks:6', 'tasks:1.5', 'TASKS:5']) {
      expect(() => loadConfig({ L402_ROUTES: bad })).toThrow(/L402_ROUTES/);
    }
    expect(() => loadConfig({ L402_TOKEN_TTL_S: 10 })).toThrow(/L402_TOKEN_TTL_S/);
    expect(loadConfig({ L402_ROUTES: '' }).L402_ROUTES).toBeUndefined();
    expect(loadConfig({}).L402_TOKEN_TTL_S).toBe(3600);
  });
});
