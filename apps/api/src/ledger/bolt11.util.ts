import * as bolt11 from 'bolt11';
import { ledgerError } from './ledger.errors';

/** Bitcoin networks a node can run on, with their BOLT11 human-readable prefixes (`ln` + prefix). */
export const LIGHTNING_NETWORKS = {
  mainnet: 'bc',
  testnet: 'tb',
  signet: 'tbs',
  regtest: 'bcrt',
} as const;
export type LightningNetwork = keyof typeof LIGHTNING_NETWORKS;

/** bolt11 library network objects (the address fields only matter for fallback addresses, which we never set). */
function networkObject(network: LightningNetwork) {
  const base = { pubKeyHash: 0x6f, scriptHash: 0xc4, validWitnessVersions: [0, 1] };
  if (network === 'mainnet') return { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, validWitnessVersions: [0, 1] };
  return { ...base, bech32: LIGHTNING_NETWORKS[network] };
}

/** Longest BOLT11 string we accept (a real invoice with routing hints is well under this). */
export const MAX_BOLT11_LENGTH = 4096;
/** BOLT11 caps the description field at 639 bytes. */
export const MAX_DESCRIPTION_BYTES = 639;

/** A decoded, signature-checked BOLT11 invoice. Times in ms since the epoch, amounts in msat. */
export interface DecodedBolt11 {
  bolt11: string;
  paymentHash: string;
  /** bech32 prefix of the invoice's network (`bc`, `tb`, `tbs`, `bcrt`). */
  prefix: string;
  /** null for an amountless invoice. */
  amountMsat: number | null;
  description: string;
  /** The payee's node public key (hex, 33 bytes), recovered from the signature. */
  payee: string;
  createdAtMs: number;
  expiresAtMs: number;
}

const PREFIX_RE = /^ln(bcrt|tbs|bc|tb|sb)/;

/**
 * Decodes a BOLT11 payment request with the `bolt11` library, which verifies the bech32 checksum and recovers the
 * payee key from the signature. Checks the network against `expected`.
 * @throws AppError `ledger/invalid_bolt11` (400: not a string, too long, not BOLT11, bad checksum or signature, no
 *   payment_hash), `ledger/wrong_network` (400), `ledger/amount_too_large` (400: above 2^53 - 1 msat).
 */
export function decodeBolt11(input: unknown, expected: LightningNetwork): DecodedBolt11 {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_BOLT11_LENGTH) {
    throw ledgerError('ledger/invalid_bolt11', `bolt11 must be a BOLT11 payment request of 1-${MAX_BOLT11_LENGTH} characters`, 400);
  }
  const text = input.trim().toLowerCase().replace(/^lightning:/, '');
  const m = PREFIX_RE.exec(text);
  if (!m) throw ledgerError('ledger/invalid_bolt11', 'bolt11 is not a BOLT11 payment request (expected an ln... string)', 400);
  const want = LIGHTNING_NETWORKS[expected];
  if (m[1] !== want) {
    throw ledgerError('ledger/wrong_network', `Invoice is for network prefix "${m[1]}", this node is on ${expected} ("${want}")`, 400);
  }
  let d: ReturnType<typeof bolt11.decode>;
  try {
    d = bolt11.decode(text, networkObject(expected));
  } catch (err) {
    throw ledgerError('ledger/invalid_bolt11', `bolt11 could not be decoded: ${(err as Error).message}`, 400);
  }
  const hash = d.tagsObject.payment_hash;
  if (!hash || !/^[0-9a-f]{64}$/.test(hash)) throw ledgerError('ledger/invalid_bolt11', 'bolt11 has no payment_hash', 400);
  if (!d.payeeNodeKey) throw ledgerError('ledger/invalid_bolt11', 'bolt11 signature does not recover a payee key', 400);
  let amountMsat: number | null = null;
  if (d.millisatoshis !== null && d.millisatoshis !== undefined) {
    const n = Number(d.millisatoshis);
    if (!Number.isSafeInteger(n)) throw ledgerError('ledger/amount_too_large', `Invoice amount ${d.millisatoshis} msat is above the ledger's limit`, 400);
    if (n <= 0) throw ledgerError('ledger/invalid_bolt11', 'Invoice amount must be positive', 400);
    amountMsat = n;
  }
  const createdAtMs = (d.timestamp ?? 0) * 1000;
  const expireSec = d.tagsObject.expire_time ?? 3600;
  return {
    bolt11: text,
    paymentHash: hash,
    prefix: m[1],
    amountMsat,
    description: d.tagsObject.description ?? '',
    payee: d.payeeNodeKey,
    createdAtMs,
    expiresAtMs: createdAtMs + expireSec * 1000,
  };
}

/** What an invoice says; the signer is the node's secp256k1 private key (hex). */
export interface EncodeInvoiceInput {
  network: LightningNetwork;
  privateKeyHex: string;
  paymentHash: string;
  paymentSecret: string;
  amountMsat: number | null;
  description: string;
  expirySeconds: number;
  /** Creation time in ms (BOLT11 stores seconds). */
  nowMs?: number;
}

/** Encodes and signs a BOLT11 invoice (bolt11 library). Returns the payment request string. */
export function encodeBolt11(input: EncodeInvoiceInput): string {
  const tags: { tagName: string; data: bolt11.TagData }[] = [
    { tagName: 'payment_hash', data: input.paymentHash },
    { tagName: 'payment_secret', data: input.paymentSecret },
    { tagName: 'description', data: input.description },
    { tagName: 'expire_time', data: input.expirySeconds },
    { tagName: 'min_final_cltv_expiry', data: 80 },
    // BOLT 9: var_onion_optin and payment_secret are required of every modern invoice
    { tagName: 'feature_bits', data: { word_length: 4, var_onion_optin: { required: true, supported: true }, payment_secret: { required: true, supported: true } } },
  ];
  const unsigned = bolt11.encode(
    {
      network: networkObject(input.network),
      millisatoshis: input.amountMsat === null ? null : String(input.amountMsat),
      timestamp: Math.floor((input.nowMs ?? Date.now()) / 1000),
      tags,
    },
    false,
  );
  const signed = bolt11.sign(unsigned, Buffer.from(input.privateKeyHex, 'hex'));
  if (!signed.paymentRequest) throw new Error('bolt11 signing produced no payment request');
  return signed.paymentRequest;
}
