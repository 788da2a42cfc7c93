import { parseArgs } from 'node:util';
import { balance, msatToSats, withdraw } from './ledger';
import { RestClient } from './rest';

export const LEDGER_COMMANDS = ['balance', 'withdraw'] as const;
export type LedgerCommand = (typeof LEDGER_COMMANDS)[number];

export const LEDGER_USAGE = `Usage:
  pnpm agent balance [--url <url>] [--key <agent key>]
  pnpm agent withdraw [--amount-msat <n>] [--max-fee-msat <n>] [--idempotency-key <k>] <bolt11>

balance   prints the agent's balance as JSON: availableSats / availableMsat (what it can withdraw now) and the
          API's answer (account totals and ADR-018's formula, in msat).
withdraw  pays <bolt11> from the agent's own account and prints the payment as JSON (amounts in msat).
          Exit 0 when settled or still in flight (status "pending": the server tracks it to its end),
          1 when the payment failed or was refused, 2 for bad usage.
  --amount-msat <n>        amount for an amountless invoice (integer msat)
  --max-fee-msat <n>       fee limit (integer msat; server default max(LEDGER_DEFAULT_MAX_FEE_MSAT, 1 %))
  --idempotency-key <k>    a retry with the same key returns the first payment
Common: --url <url> (env MC_URL, default http://127.0.0.1:3000), --key <agent key> (env MC_API_KEY).
`;

/** Parsed options of `balance` / `withdraw`. Amounts in msat. */
export interface LedgerCliOptions {
  url: string;
  key: string;
  /** `withdraw` only. */
  bolt11: string | null;
  amountMsat?: number;
  maxFeeMsat?: number;
  idempotencyKey?: string;
}

export type LedgerParseResult = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'ok'; options: LedgerCliOptions };

function msat(name: string, v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)) || Number(v) < 1) return `--${name} must be a positive integer (msat), got "${v}"`;
  return Number(v);
}

/**
 * Parses the arguments of `balance` / `withdraw` (after the command word).
 * @param env defaults for MC_URL and MC_API_KEY.
 * @returns `help`, an `error` with a one-line message (unknown flag, missing key or bolt11, bad amount or URL), or
 *   the options.
 */
export function parseLedgerArgs(cmd: LedgerCommand, argv: string[], env: NodeJS.ProcessEnv = process.env): LedgerParseResult {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        'amount-msat': { type: 'string' },
        'max-fee-msat': { type: 'string' },
        'idempotency-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  const url = (s('url') || env.MC_URL || 'http://127.0.0.1:3000').trim();
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { kind: 'error', message: `--url must be http(s), got "${u.protocol}"` };
    if (u.username || u.password) return { kind: 'error', message: `--url must not contain credentials (user:password@): use --key or MC_API_KEY; got ${u.protocol}//${u.host}` };
  } catch {
    return { kind: 'error', message: `--url is not a valid URL: "${url}"` };
  }
  const key = (s('key') || env.MC_API_KEY || '').trim();
  if (!key) return { kind: 'error', message: 'an agent API key is required (--key or env MC_API_KEY)' };
  const options: LedgerCliOptions = { url: url.replace(/\/+$/, ''), key, bolt11: null };
  if (cmd === 'balance') {
    if (positionals.length > 0) return { kind: 'error', message: `balance takes no arguments, got "${positionals.join(' ')}"` };
    for (const flag of ['amount-msat', 'max-fee-msat', 'idempotency-key']) {
      if (values[flag] !== undefined) return { kind: 'error', message: `--${flag} is an option of withdraw, not balance` };
    }
    return { kind: 'ok', options };
  }
  if (positionals.length !== 1 || !positionals[0].trim()) return { kind: 'error', message: 'withdraw needs exactly one <bolt11> invoice' };
  options.bolt11 = positionals[0].trim();
  const amountMsat = msat('amount-msat', s('amount-msat'));
  if (typeof amountMsat === 'string') return { kind: 'error', message: amountMsat };
  const maxFeeMsat = msat('max-fee-msat', s('max-fee-msat'));
  if (typeof maxFeeMsat === 'string') return { kind: 'error', message: maxFeeMsat };
  if (amountMsat !== undefined) options.amountMsat = amountMsat;
  if (maxFeeMsat !== undefined) options.maxFeeMsat = maxFeeMsat;
  if (s('idempotency-key') !== undefined) options.idempotencyKey = s('idempotency-key');
  return { kind: 'ok', options };
}

/**
 * Runs `balance` or `withdraw` against the API and prints JSON to `out`; a failed payment also gets one line on
 * `err`. Returns the exit code: 0 (balance; withdraw settled or still pending), 1 (withdraw failed).
 * @throws AgentSdkError from the server or the network (the caller prints it and exits 1).
 */
export async function runLedgerCommand(
  cmd: LedgerCommand,
  o: LedgerCliOptions,
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  const rest = new RestClient({ baseUrl: o.url, apiKey: o.key });
  if (cmd === 'balance') {
    const b = await balance(rest);
    const result = { agentId: b.account.agentId, availableSats: msatToSats(b.account.availableMsat), availableMsat: b.account.availableMsat, ...b };
    out.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  const { amountMsat, maxFeeMsat, idempotencyKey } = o;
  const t = await withdraw(rest, o.bolt11 ?? '', { amountMsat, maxFeeMsat, idempotencyKey });
  out.write(`${JSON.stringify(t, null, 2)}\n`);
  if (t.status === 'failed') {
    err.write(`withdraw failed: ${t.failureReason ?? 'unknown reason'} (nothing was taken from the account)\n`);
    return 1;
  }
  if (t.status === 'pending') err.write(`withdraw in flight: payment ${t.paymentHash} is still pending; the server tracks it to its end\n`);
  return 0;
}
