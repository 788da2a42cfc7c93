import { parseProposeArgs } from './upgrade-cli';

describe('parseProposeArgs', () => {
  const env = { MC_API_KEY: 'mck_env' };

  it('reads a diff proposal with defaults from the environment', () => {
    const r = parseProposeArgs(['--title', 'fix typo', '--diff', '-', '--wait'], env);
    expect(r).toEqual({
      kind: 'ok',
      options: { url: 'http://127.0.0.1:3000', key: 'mck_env', title: 'fix typo', rationale: undefined, branch: null, diffFile: '-', wait: true, timeoutMs: 3_600_000 },
    });
  });

  it('reads a branch proposal', () => {
    const r = parseProposeArgs(['--key', 'k', '--title', 't', '--branch', 'feature/x', '--url', 'http://h:1/', '--timeout-ms', '5000'], {});
    expect(r).toMatchObject({ kind: 'ok', options: { key: 'k', branch: 'feature/x', diffFile: null, url: 'http://h:1', timeoutMs: 5000, wait: false } });
  });

  it.each([
    [['--title', 't', '--diff', 'a'], {}, 'an API key is required'],
    [['--diff', 'a'], env, '--title is required'],
    [['--title', 't'], env, 'exactly one of --branch or --diff'],
    [['--title', 't', '--branch', 'b', '--diff', 'd'], env, 'exactly one of --branch or --diff'],
    [['--title', 't', '--diff', 'd', '--timeout-ms', 'soon'], env, '--timeout-ms must be an integer'],
    [['--title', 't', '--diff', 'd', '--bogus'], env, 'Unknown option'],
  ] as [string[], Record<string, string>, string][])('%j -> error', (argv, e, message) => {
    const r = parseProposeArgs(argv, e);
    expect(r.kind).toBe('error');
    expect((r as { message: string }).message).toContain(message);
  });

  it('--help', () => {
    expect(parseProposeArgs(['-h'], env)).toEqual({ kind: 'help' });
  });
});
