import { parseArgs } from 'node:util';
import { RestClient } from './rest';
import { facts, recall, remember, setFact } from './memory';

export const MEMORY_COMMANDS = ['remember', 'recall', 'fact', 'facts'] as const;
export type MemoryCommand = (typeof MEMORY_COMMANDS)[number];

export const MEMORY_USAGE = `Usage:
  pnpm agent remember [--type <type>] [--session <id>] [--agent <id>] <text>
  pnpm agent recall [--limit <n>] [--mode hybrid|lexical|vector] [--agent <id> [--shared]] <query>
  pnpm agent fact --subject <who> --name <key> [--valid-from <ISO date>] <text>
  pnpm agent facts [--subject <who>] [--at <ISO date>]
Common: --url <url> (env MC_URL, default http://127.0.0.1:3000), --key <key> (env MC_API_KEY). Prints JSON.
`;

/**
 * Runs one memory subcommand against the API and prints its JSON result. Returns the exit code (0 ok, 2 bad usage).
 * @throws AgentSdkError from the server (the caller prints it and exits 1).
 */
export async function runMemoryCommand(cmd: MemoryCommand, argv: string[], env: NodeJS.ProcessEnv = process.env, out: { write(s: string): unknown } = process.stdout): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      type: { type: 'string' },
      session: { type: 'string' },
      agent: { type: 'string' },
      shared: { type: 'boolean' },
      limit: { type: 'string' },
      mode: { type: 'string' },
      subject: { type: 'string' },
      name: { type: 'string' },
      'valid-from': { type: 'string' },
      at: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    out.write(MEMORY_USAGE);
    return 0;
  }
  const key = values.key || env.MC_API_KEY?.trim() || '';
  const text = positionals.join(' ').trim();
  const bad = (m: string) => {
    process.stderr.write(`error: ${m}\n\n${MEMORY_USAGE}`);
    return 2;
  };
  if (!key) return bad('an API key is required (--key or env MC_API_KEY)');
  const rest = new RestClient({ baseUrl: (values.url || env.MC_URL || 'http://127.0.0.1:3000').replace(/\/+$/, ''), apiKey: key });
  let result: unknown;
  switch (cmd) {
    case 'remember':
      if (!text) return bad('remember needs the text to store');
      result = await remember(rest, { content: text, type: values.type as never, sessionId: values.session, agentId: values.agent });
      break;
    case 'recall': {
      if (!text) return bad('recall needs a query');
      const limit = values.limit === undefined ? undefined : Number(values.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) return bad('--limit must be a positive integer');
      result = await recall(rest, text, { limit, mode: values.mode as never, filters: values.agent ? { agentId: values.agent, includeShared: values.shared === true } : undefined });
      break;
    }
    case 'fact':
      if (!values.subject || !values.name || !text) return bad('fact needs --subject, --name and the text');
      result = await setFact(rest, { subject: values.subject, key: values.name, content: text, validFrom: values['valid-from'] });
      break;
    case 'facts':
      result = await facts(rest, { subject: values.subject, at: values.at });
      break;
  }
  out.write(`${JSON.stringify(result, null, 2)}\n`);
  return 0;
}
