import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { UpgradeDetailDto } from '@app/contracts';
import { RestClient } from './rest';
import { proposeUpgrade, waitForUpgrade, type ProposeUpgradeRequest } from './upgrades';

/** Options of `pnpm agent propose-upgrade`. */
export interface ProposeUpgradeCliOptions {
  url: string;
  key: string;
  title: string;
  rationale: string | undefined;
  branch: string | null;
  /** Path of the diff file, or `-` for stdin. */
  diffFile: string | null;
  /** Wait for a final state and exit 0 only when applied. */
  wait: boolean;
  timeoutMs: number;
}

export const PROPOSE_USAGE = `Usage: pnpm agent propose-upgrade --key <agent key> --title <text> (--branch <name> | --diff <file|->) [options]

Proposes a change to the upgrade repository for an operator to approve: a branch of that repository, or a unified
diff (git diff format) against its target branch. Prints the proposal as JSON (id, state, diffSha256, files).

Options:
  --url <url>          API origin (default: env MC_URL or http://127.0.0.1:3000)
  --key <key>          agent API key (default: env MC_API_KEY)
  --title <text>       one-line title (required)
  --rationale <text>   why the change is wanted
  --branch <name>      propose this branch
  --diff <file|->      propose this diff file (- reads stdin)
  --wait               wait until it is applied, failed, rolled back, rejected, expired or cancelled;
                       exit 0 only when applied (3 otherwise)
  --timeout-ms <ms>    how long --wait waits (default 3600000)
  -h, --help           print this help
`;

export type ProposeParseResult = { kind: 'help' } | { kind: 'error'; message: string } | { kind: 'ok'; options: ProposeUpgradeCliOptions };

/** Parses the arguments after `propose-upgrade`. */
export function parseProposeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ProposeParseResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        key: { type: 'string' },
        title: { type: 'string' },
        rationale: { type: 'string' },
        branch: { type: 'string' },
        diff: { type: 'string' },
        wait: { type: 'boolean' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const s = (k: string) => (typeof values[k] === 'string' ? (values[k] as string).trim() : undefined);
  const key = s('key') || env.MC_API_KEY?.trim() || '';
  if (!key) return { kind: 'error', message: 'an API key is required (--key or env MC_API_KEY)' };
  const title = s('title');
  if (!title) return { kind: 'error', message: '--title is required' };
  const branch = s('branch') || null;
  const diffFile = s('diff') || null;
  if ((branch === null) === (diffFile === null)) return { kind: 'error', message: 'pass exactly one of --branch or --diff' };
  const t = s('timeout-ms');
  if (t !== undefined && !/^\d+$/.test(t)) return { kind: 'error', message: `--timeout-ms must be an integer, got "${t}"` };
  const url = (s('url') || env.MC_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '');
  try {
    new URL(url);
  } catch {
    return { kind: 'error', message: `--url is not a valid URL: "${url}"` };
  }
  return { kind: 'ok', options: { url, key, title, rationale: s('rationale'), branch, diffFile, wait: values.wait === true, timeoutMs: t ? Number(t) : 3_600_000 } };
}

/**
 * Runs `propose-upgrade`: proposes, prints the proposal JSON (without the diff) to stdout, optionally waits.
 * @returns exit code: 0 proposed (or applied with --wait), 3 when --wait ended in another final state.
 * @throws AgentSdkError from the server (the caller prints it and exits 1).
 */
export async function runProposeUpgrade(o: ProposeUpgradeCliOptions, stdin: () => string = () => readFileSync(0, 'utf8')): Promise<number> {
  const rest = new RestClient({ baseUrl: o.url, apiKey: o.key });
  const req: ProposeUpgradeRequest = o.branch
    ? { title: o.title, rationale: o.rationale, branch: o.branch }
    : { title: o.title, rationale: o.rationale, diff: o.diffFile === '-' ? stdin() : readFileSync(o.diffFile!, 'utf8') };
  const summary = (u: UpgradeDetailDto) => {
    const { diff: _diff, ...rest } = u;
    return JSON.stringify(rest);
  };
  const up = await proposeUpgrade(rest, req);
  process.stdout.write(`${summary(up)}\n`);
  if (!o.wait) return 0;
  const done = await waitForUpgrade(rest, up.id, { timeoutMs: o.timeoutMs });
  process.stdout.write(`${summary(done)}\n`);
  return done.state === 'applied' ? 0 : 3;
}
