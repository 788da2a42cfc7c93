import { LEDGER_USAGE, parseLedgerArgs } from './ledger-cli';
import { msatToSats } from './ledger';
import { USAGE } from './cli-args';

describe('parseLedgerArgs', () => {
  const env = { MC_API_KEY: 'mck_env' };

  it('balance: defaults from the environment', () => {
    expect(parseLedgerArgs('balance', [], env)).toEqual({ kind: 'ok', options: { url: 'http://127.0.0.1:3000', key: 'mck_env', bolt11: null } });
    expect(parseLedgerArgs('balance', ['--url', 'http://h:1/', '--key', 'k'], {})).toEqual({ kind: 'ok', options: { url: 'http://h:1', key: 'k', bolt11: null } });
  });

  it('withdraw: the bolt11 and the msat options', () => {
    const r = parseLedgerArgs('withdraw', ['lnbcrt1p0xyz', '--amount-msat', '5000', '--max-fee-msat', '10', '--idempotency-key', 'w-1'], env);
    expect(r).toEqual({
      kind: 'ok',
      options: { url: 'http://127.0.0.1:3000', key: 'mck_env', bolt11: 'lnbcrt1p0xyz', amountMsat: 5000, maxFeeMsat: 10, idempotencyKey: 'w-1' },
    });
    expect(parseLedgerArgs('withdraw', ['lnbcrt1p0xyz'], env)).toEqual({ kind: 'ok', options: { url: 'http://127.0.0.1:3000', key: 'mck_env', bolt11: 'lnbcrt1p0xyz' } });
  });

  it.each([
    ['balance', [], {}, 'an agent API key is required'],
    ['balance', ['extra'], env, 'balance takes no arguments'],
    ['balance', ['--max-fee-msat', '5'], env, 'is an option of withdraw'],
    ['withdraw', [], env, 'exactly one <bolt11>'],
    ['withdraw', ['a', 'b'], env, 'exactly one <bolt11>'],
    ['withdraw', ['lnbc1', '--amount-msat', '0'], env, '--amount-msat must be a positive integer'],
    ['withdraw', ['lnbc1', '--amount-msat', '1.5'], env, '--amount-msat must be a positive integer'],
    ['withdraw', ['lnbc1', '--max-fee-msat', 'lots'], env, '--max-fee-msat must be a positive integer'],
    ['withdraw', ['lnbc1', '--bogus'], env, 'Unknown option'],
    ['withdraw', ['lnbc1', '--url', 'http://u:p@h:1'], env, 'must not contain credentials'],
    ['balance', ['--url', 'ftp://h'], env, 'must be http(s)'],
  ] as ['balance' | 'withdraw', string[], Record<string, string>, string][])('%s %j -> error', (cmd, argv, e, message) => {
    const r = parseLedgerArgs(cmd, argv, e);
    expect(r.kind).toBe('error');
    expect((r as { message: string }).message).toContain(message);
  });

  it('--help, and the main usage names both commands', () => {
    expect(parseLedgerArgs('withdraw', ['-h'], env)).toEqual({ kind: 'help' });
    expect(LEDGER_USAGE).toMatch(/pnpm agent balance/);
    expect(LEDGER_USAGE).toMatch(/pnpm agent withdraw .*<bolt11>/);
    expect(USAGE).toMatch(/pnpm agent balance/);
    expect(USAGE).toMatch(/pnpm agent withdraw <bolt11>/);
  });

  it('msatToSats rounds down to whole sats', () => {
    expect(msatToSats(300_999)).toBe(300);
    expect(msatToSats(0)).toBe(0);
  });
});
