import { describe, expect, it } from 'vitest';
import { agentEarnings, balanceCards, balanceSeries, defaultFeeLimitMsat, expiresIn, formatSats, netEffectMsat, parseSatsToMsat, timeTick } from '../format';
import { filterParams, ledgerExportUrl, newIdempotencyKey } from '../api/ledger.api';
import { account, balances, tx } from './fixtures';

describe('formatSats', () => {
  it('shows msat as sats with separators, fractions only when not whole', () => {
    expect(formatSats(0)).toBe('0 sats');
    expect(formatSats(5_000_000)).toBe('5,000 sats');
    expect(formatSats(1_500)).toBe('1.5 sats');
    expect(formatSats(1_001)).toBe('1.001 sats');
    expect(formatSats(-3_797_000)).toBe('−3,797 sats');
    expect(formatSats(2_000, { signed: true })).toBe('+2 sats');
    expect(formatSats(12_000, { unit: false })).toBe('12');
  });

  it('never throws on missing or odd values', () => {
    expect(formatSats(null)).toBe('–');
    expect(formatSats(undefined)).toBe('–');
    expect(formatSats(Number.NaN)).toBe('–');
    expect(formatSats(Number.POSITIVE_INFINITY)).toBe('–');
  });
});

describe('parseSatsToMsat', () => {
  it('reads whole and fractional sats typed by a person', () => {
    expect(parseSatsToMsat('5000')).toBe(5_000_000);
    expect(parseSatsToMsat('5,000')).toBe(5_000_000);
    expect(parseSatsToMsat(' 21 ')).toBe(21_000);
    expect(parseSatsToMsat('0.5')).toBe(500);
    expect(parseSatsToMsat('1.001')).toBe(1_001);
  });

  it('refuses blank, zero, negative, malformed, too precise or unsafe amounts', () => {
    for (const bad of ['', '0', '0.000', '-5', '1e3', 'abc', '1.0001', '1.2.3', '9'.repeat(20)]) expect(parseSatsToMsat(bad)).toBeNull();
  });
});

describe('fees and effects', () => {
  it('proposes the server default fee limit: max(10 sats, 1 % rounded up)', () => {
    expect(defaultFeeLimitMsat(1_200_000)).toBe(12_000);
    expect(defaultFeeLimitMsat(50_000)).toBe(10_000);
    expect(defaultFeeLimitMsat(100_001)).toBe(10_000);
    expect(defaultFeeLimitMsat(10_000_001)).toBe(100_001);
  });

  it('counts only settled transactions; outgoing pays its fee too', () => {
    expect(netEffectMsat(tx())).toBe(1_000_000);
    expect(netEffectMsat(tx({ type: 'outgoing', amountMsat: 1_200_000, feeMsat: 3_000 }))).toBe(-1_203_000);
    expect(netEffectMsat(tx({ status: 'pending' }))).toBe(0);
    expect(netEffectMsat(tx({ status: 'failed', type: 'outgoing' }))).toBe(0);
  });
});

describe('balanceSeries', () => {
  const rows = [
    tx({ id: 'c', type: 'outgoing', amountMsat: 1_200_000, feeMsat: 3_000, settledAt: '2026-01-01T10:02:00.000Z' }),
    tx({ id: 'p', status: 'pending', amountMsat: 9_000_000, settledAt: null }),
    tx({ id: 'a', amountMsat: 5_000_000, settledAt: '2026-01-01T10:01:00.000Z' }),
  ];

  it('cumulates settlements oldest first (newest-first input), from 0 without an anchor', () => {
    const s = balanceSeries(rows);
    expect(s.map((p) => p.sats)).toEqual([0, 5000, 3797]);
    expect(s.map((p) => p.t)).toEqual([Date.parse('2026-01-01T10:01:00.000Z') - 1, Date.parse('2026-01-01T10:01:00.000Z'), Date.parse('2026-01-01T10:02:00.000Z')]);
  });

  it('anchors the last point to the current balance (older history beyond the page)', () => {
    const s = balanceSeries(rows, 10_000_000 - 1_203_000);
    expect(s.map((p) => p.sats)).toEqual([5000, 10000, 8797]);
  });

  it('merges settlements at the same instant into one point and is empty without any', () => {
    const at = '2026-01-01T10:00:00.000Z';
    const s = balanceSeries([tx({ id: 'x', settledAt: at }), tx({ id: 'y', settledAt: at })]);
    expect(s).toEqual([
      { t: Date.parse(at) - 1, sats: 0, n: 0 },
      { t: Date.parse(at), sats: 2000, n: 2 },
    ]);
    expect(balanceSeries([tx({ status: 'pending' })])).toEqual([]);
  });
});

describe('agentEarnings and balanceCards', () => {
  it('lists agent accounts by earnings (posted credits), with available and held amounts', () => {
    const agents = [
      account({ id: 'agent:echo', kind: 'agent', agentId: 'echo', creditsPostedMsat: 10_000, availableMsat: 4_000 }),
      account({ id: 'agent:forge', kind: 'agent', agentId: 'forge', creditsPostedMsat: 35_000, availableMsat: 35_000, creditsPendingMsat: 7_000 }),
      account({ id: 'agent:zed', kind: 'agent', agentId: null, creditsPostedMsat: 10_000 }),
      account(),
    ];
    expect(agentEarnings(agents)).toEqual([
      { agentId: 'forge', earnedMsat: 35_000, availableMsat: 35_000, pendingMsat: 7_000 },
      { agentId: 'echo', earnedMsat: 10_000, availableMsat: 4_000, pendingMsat: 0 },
      { agentId: 'zed', earnedMsat: 10_000, availableMsat: 0, pendingMsat: 0 },
    ]);
  });

  it('flags the pending cards only when money is pending', () => {
    const idle = balanceCards(balances());
    expect(idle.map((c) => [c.key, c.pending])).toEqual([
      ['available', false],
      ['pendingIn', false],
      ['pendingOut', false],
      ['fees', false],
    ]);
    const busy = balanceCards(balances({ pendingIncomingMsat: 1_000, pendingOutgoingMsat: 2_000, availableMsat: 5_000, feesMsat: 3_000 }));
    expect(busy.map((c) => [c.key, c.msat, c.pending])).toEqual([
      ['available', 5_000, false],
      ['pendingIn', 1_000, true],
      ['pendingOut', 2_000, true],
      ['fees', 3_000, false],
    ]);
  });
});

describe('expiresIn', () => {
  const now = Date.parse('2026-01-01T10:00:00.000Z');
  it('reads like a countdown', () => {
    expect(expiresIn('2026-01-01T10:00:30.000Z', now)).toBe('in 30s');
    expect(expiresIn('2026-01-01T10:30:00.000Z', now)).toBe('in 30m');
    expect(expiresIn('2026-01-01T13:15:00.000Z', now)).toBe('in 3h 15m');
    expect(expiresIn('2026-01-08T10:00:00.000Z', now)).toBe('in 7d');
    expect(expiresIn('2026-01-01T09:00:00.000Z', now)).toBe('expired');
    expect(expiresIn(null, now)).toBe('');
    expect(expiresIn('nonsense', now)).toBe('');
  });
});

describe('ledger api helpers', () => {
  it('builds filter params and the export link, leaving blanks out', () => {
    expect(filterParams({ type: 'outgoing', status: '', agentId: ' forge ', from: '2026-01-01T00:00:00.000Z' })).toEqual({
      type: 'outgoing',
      status: '',
      agentId: 'forge',
      from: '2026-01-01T00:00:00.000Z',
      to: undefined,
    });
    expect(ledgerExportUrl({ from: '2026-01-01T00:00:00.000Z', to: undefined })).toBe('/api/ledger/export?from=2026-01-01T00%3A00%3A00.000Z&format=csv');
    expect(ledgerExportUrl({})).toBe('/api/ledger/export?format=csv');
  });

  it('makes distinct idempotency keys the API accepts (<= 128 chars)', () => {
    const a = newIdempotencyKey();
    expect(a).toMatch(/^web-[0-9a-f]{32}$/);
    expect(newIdempotencyKey()).not.toBe(a);
  });
});

describe('timeTick', () => {
  const t = new Date(2026, 0, 2, 9, 5, 7).getTime(); // local time
  it('shows seconds for short spans, the date for long ones', () => {
    expect(timeTick(60_000)(t)).toBe('09:05:07');
    expect(timeTick(5 * 3_600_000)(t)).toBe('09:05');
    expect(timeTick(7 * 86_400_000)(t)).toBe('01-02 09:05');
    expect(timeTick(60_000)(Number.NaN)).toBe('');
  });
});
