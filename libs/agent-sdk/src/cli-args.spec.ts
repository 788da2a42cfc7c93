import { matchesKeywords, parseCliArgs } from './cli-args';

const base = ['--key', 'mck_test', '--bid', '20', '--exec', 'tr a-z A-Z'];

describe('parseCliArgs', () => {
  it('parses the full flag set', () => {
    const r = parseCliArgs(
      ['--url', 'http://10.0.0.5:4000/', '--key', 'mck_x', '--name', 'scout', '--capabilities', 'research, web,', '--bid', '25',
        '--exec', 'echo hi', '--keywords', 'Foo,bar', '--max-concurrent', '3', '--timeout-ms', '5000', '--heartbeat-ms', '2500'],
      {},
    );
    expect(r).toEqual({
      kind: 'ok',
      options: {
        url: 'http://10.0.0.5:4000',
        key: 'mck_x',
        name: 'scout',
        capabilities: ['research', 'web'],
        bidSats: 25,
        exec: 'echo hi',
        keywords: ['foo', 'bar'],
        maxConcurrent: 3,
        timeoutMs: 5000,
        heartbeatMs: 2500,
      },
    });
  });

  it('takes defaults from the environment, then built-ins', () => {
    const r = parseCliArgs(['--bid', '1', '--exec', 'cat'], { MC_URL: 'http://api:3000', MC_API_KEY: 'mck_env' });
    expect(r.kind === 'ok' && r.options).toMatchObject({
      url: 'http://api:3000', key: 'mck_env', name: null, capabilities: [], keywords: [], maxConcurrent: 1, timeoutMs: 120_000, heartbeatMs: 10_000,
    });
    const d = parseCliArgs(base, {});
    expect(d.kind === 'ok' && d.options.url).toBe('http://127.0.0.1:3000');
    const flagWins = parseCliArgs(base, { MC_API_KEY: 'mck_env' });
    expect(flagWins.kind === 'ok' && flagWins.options.key).toBe('mck_test');
  });

  it('treats empty env values as unset and accepts a leading -- separator', () => {
    const r = parseCliArgs(['--', ...base], { MC_URL: '', MC_API_KEY: '' });
    expect(r.kind === 'ok' && r.options).toMatchObject({ url: 'http://127.0.0.1:3000', key: 'mck_test' });
  });

  it('returns help for --help and -h', () => {
    expect(parseCliArgs(['--help'], {})).toEqual({ kind: 'help' });
    expect(parseCliArgs(['-h'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [['--bid', '20', '--exec', 'cat'], /API key is required/],
    [['--key', 'k', '--exec', 'cat'], /--bid <sats> is required/],
    [['--key', 'k', '--bid', '20'], /--exec/],
    [[...base, '--bid', '0'], /--bid must be between 1 and 1000000/],
    [['--key', 'k', '--bid', '1000001', '--exec', 'x'], /between 1 and 1000000/],
    [['--key', 'k', '--bid', '2.5', '--exec', 'x'], /--bid must be an integer/],
    [['--key', 'k', '--bid', '-3', '--exec', 'x'], /.+/],
    [[...base, '--max-concurrent', '0'], /--max-concurrent must be between 1/],
    [[...base, '--url', 'ftp://x'], /must be http/],
    [[...base, '--url', 'not a url'], /not a valid URL/],
    [[...base, '--bogus'], /Unknown option '--bogus'/],
    [[...base, 'positional'], /positional/],
  ])('rejects %j', (argv, message) => {
    const r = parseCliArgs(argv as string[], {});
    expect(r.kind).toBe('error');
    expect(r.kind === 'error' && r.message).toMatch(message);
  });
});

describe('matchesKeywords', () => {
  it('matches everything without keywords and case-insensitively with them', () => {
    expect(matchesKeywords('anything', [])).toBe(true);
    expect(matchesKeywords('Research Lightning fees', ['lightning'])).toBe(true);
    expect(matchesKeywords('write a poem', ['lightning', 'fees'])).toBe(false);
  });
});
