import { parseArgs } from 'node:util';

/** Parsed and validated options of the `pnpm agent` CLI. */
export interface CliOptions {
  /** API origin (from --url, env MC_URL, or http://127.0.0.1:3000). */
  url: string;
  /** API key (from --key or env MC_API_KEY): an agent key, or an operator/admin key together with --name. */
  key: string;
  /** Agent name to enrol (only used with an operator/admin key). */
  name: string | null;
  capabilities: string[];
  /** Bid placed on every accepted offer, integer sats (1..1,000,000). */
  bidSats: number;
  /** Shell command run for each assigned task. */
  exec: string;
  /** Only bid on offers whose description contains one of these (case-insensitive); empty = bid on all. */
  keywords: string[];
  /** Tasks run at once (>= 1); no bids are placed while this many are in progress. */
  maxConcurrent: number;
  /** Per-command timeout in ms. */
  timeoutMs: number;
  /** Heartbeat interval in ms. */
  heartbeatMs: number;
}

export type CliParseResult = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'ok'; options: CliOptions };

export const USAGE = `Usage: pnpm agent --key <api key> --bid <sats> --exec "<shell command>" [options]
       pnpm agent propose-upgrade --help   (propose a branch or diff to the upgrade queue)
       pnpm agent balance [--key <agent key>]   (the agent's ledger balance, JSON, sats and msat)
       pnpm agent withdraw <bolt11>   (pay an invoice from the agent's balance; withdraw --help for options)

Runs one external agent: joins the swarm, bids on task offers, runs the command for each task it wins
(task description on stdin and in env TASK_DESCRIPTION, id in TASK_ID) and completes the task with the
command's stdout (exit 0) or fails it with the exit code and stderr tail.

Options:
  --url <url>              API origin (default: env MC_URL or http://127.0.0.1:3000)
  --key <key>              API key (default: env MC_API_KEY). An agent key, or an operator/admin key with --name
  --name <name>            enrol an agent with this name first (operator/admin key only; reuses an existing name)
  --capabilities <a,b>     capabilities to enrol/join with (comma-separated)
  --bid <sats>             bid on every offer, integer sats 1..1000000 (required)
  --exec <command>         shell command run for each assigned task (required)
  --keywords <a,b>         only bid on offers whose description contains one of these (case-insensitive)
  --max-concurrent <n>     tasks run at once (default 1)
  --timeout-ms <ms>        kill the command after this long and fail the task (default 120000)
  --heartbeat-ms <ms>      heartbeat interval (default 10000)
  -h, --help               print this help
`;

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function int(name: string, v: string | undefined, def: number, min: number, max: number): number | string {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v.trim())) return `--${name} must be an integer, got "${v}"`;
  const n = Number(v);
  if (n < min || n > max) return `--${name} must be between ${min} and ${max}, got ${n}`;
  return n;
}

/**
 * Parses CLI arguments (without `node` and the script path) with `node:util` parseArgs.
 * @param env environment used for defaults (MC_URL, MC_API_KEY).
 * @returns `help`, an `error` with a one-line message (unknown flag, missing/invalid value), or the options.
 */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): CliParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      // `pnpm agent -- --flag` forwards the separator; drop a leading one
      args: argv[0] === '--' ? argv.slice(1) : argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        name: { type: 'string' },
        capabilities: { type: 'string' },
        bid: { type: 'string' },
        exec: { type: 'string' },
        keywords: { type: 'string' },
        'max-concurrent': { type: 'string' },
        'timeout-ms': { type: 'string' },
        'heartbeat-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  if (values.help) return { kind: 'help' };

  const url = (s('url') || env.MC_URL || 'http://127.0.0.1:3000').trim();
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return { kind: 'error', message: `--url must be http(s), got "${u.protocol}"` };
    // credentials in the URL would end up in messages (and fetch refuses them): the key goes in --key / MC_API_KEY
    if (u.username || u.password) return { kind: 'error', message: `--url must not contain credentials (user:password@): use --key or MC_API_KEY; got ${u.protocol}//${u.host}` };
  } catch {
    return { kind: 'error', message: `--url is not a valid URL: "${url}"` };
  }
  const key = (s('key') || env.MC_API_KEY || '').trim();
  if (!key) return { kind: 'error', message: 'an API key is required (--key or env MC_API_KEY)' };
  if (s('bid') === undefined) return { kind: 'error', message: '--bid <sats> is required' };
  const bidSats = int('bid', s('bid'), 0, 1, 1_000_000);
  if (typeof bidSats === 'string') return { kind: 'error', message: bidSats };
  const exec = (s('exec') ?? '').trim();
  if (!exec) return { kind: 'error', message: '--exec "<shell command>" is required' };
  const maxConcurrent = int('max-concurrent', s('max-concurrent'), 1, 1, 64);
  if (typeof maxConcurrent === 'string') return { kind: 'error', message: maxConcurrent };
  const timeoutMs = int('timeout-ms', s('timeout-ms'), 120_000, 100, 86_400_000);
  if (typeof timeoutMs === 'string') return { kind: 'error', message: timeoutMs };
  const heartbeatMs = int('heartbeat-ms', s('heartbeat-ms'), 10_000, 100, 3_600_000);
  if (typeof heartbeatMs === 'string') return { kind: 'error', message: heartbeatMs };
  const name = s('name')?.trim() || null;

  return {
    kind: 'ok',
    options: {
      url: url.replace(/\/+$/, ''),
      key,
      name,
      capabilities: list(s('capabilities')),
      bidSats,
      exec,
      keywords: list(s('keywords')).map((k) => k.toLowerCase()),
      maxConcurrent,
      timeoutMs,
      heartbeatMs,
    },
  };
}

/** True when the offer should get a bid: no keywords, or the description contains one (case-insensitive). */
export function matchesKeywords(description: string, keywords: string[]): boolean {
  if (keywords.length === 0) return true;
  const d = description.toLowerCase();
  return keywords.some((k) => d.includes(k));
}
