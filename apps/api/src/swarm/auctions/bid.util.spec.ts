import {
  extractKeywords,
  learnerStats,
  matchesKeyword,
  personaRawBid,
  pickWinner,
  slugifyAgentName,
  suggestBid,
  type LearnerOutcome,
  type RandInt,
} from './bid.util';
import { PERSONAS } from '../personas/personas.constants';

const fixed = (v: number): RandInt => (min, max) => Math.min(max, Math.max(min, v));
const profile = { baseBidSats: 35, jitterSats: 15, preferredKeywords: ['research', 'summarize'] };
const outcomes = (spec: [boolean, string, string][]): LearnerOutcome[] => spec.map(([won, taskStatus, description]) => ({ won, taskStatus, description }));

describe('personaRawBid', () => {
  it('on spec: max(1, base - randint(0, jitter))', () => {
    expect(personaRawBid(profile, 'Please RESEARCH batteries', fixed(0))).toBe(35);
    expect(personaRawBid(profile, 'research batteries', fixed(15))).toBe(20);
    expect(personaRawBid({ ...profile, baseBidSats: 5 }, 'research', fixed(15))).toBe(1);
  });

  it('off spec: min(200, int(base * 1.8) + randint(0, jitter))', () => {
    expect(personaRawBid(profile, 'paint a fence', fixed(0))).toBe(63);
    expect(personaRawBid(profile, 'paint a fence', fixed(15))).toBe(78);
    expect(personaRawBid({ ...profile, baseBidSats: 110 }, 'paint', fixed(20))).toBe(200);
  });

  it('asks the random source for [0, jitter]', () => {
    const calls: [number, number][] = [];
    personaRawBid(profile, 'x', (min, max) => {
      calls.push([min, max]);
      return 0;
    });
    expect(calls).toEqual([[0, 15]]);
  });

  it('every persona bids lower on spec than off spec for any jitter', () => {
    for (const p of PERSONAS) {
      const on = personaRawBid(p, `task about ${p.preferredKeywords[0]}`, fixed(0));
      const off = personaRawBid(p, 'zzz qqq', fixed(0));
      expect(on).toBeLessThan(off);
      expect(matchesKeyword('zzz qqq', p.preferredKeywords)).toBe(false);
    }
  });
});

describe('extractKeywords', () => {
  it('keeps lowercase words of 3+ letters without stop-words, once each', () => {
    expect(extractKeywords('Fix the BUG in the parser, fix it NOW: a to-do for 2 of us')).toEqual(['fix', 'bug', 'parser']);
  });
});

describe('learner outcomes (issue 12: only closed auctions)', () => {
  it('bids on still-open auctions are not counted as lost auctions: lyra keeps its static bid', () => {
    // lyra's fourth task while its first three auctions were still open: no outcome yet, no x0.85 "low win rate"
    const open = learnerStats(outcomes([[false, 'bidding', 'a'], [false, 'bidding', 'b'], [false, 'pending', 'c']]));
    expect(open.outcomes).toBe(0);
    expect(suggestBid(126, 'zzz', open)).toBe(126);
    // the same three once closed and lost: now they are outcomes
    const lost = learnerStats(outcomes([[false, 'assigned', 'a'], [false, 'completed', 'b'], [false, 'failed', 'c']]));
    expect(lost.outcomes).toBe(3);
    expect(suggestBid(126, 'zzz', lost)).toBe(107);
  });

  it('a task cancelled during bidding is no outcome; a won task later cancelled is a win', () => {
    const s = learnerStats(outcomes([[false, 'cancelled', 'a'], [true, 'cancelled', 'b'], [false, 'bidding', 'c']]));
    expect(s).toMatchObject({ outcomes: 1, wins: 1 });
  });
});

describe('suggestBid', () => {
  it('no change below 3 outcomes', () => {
    expect(suggestBid(50, 'x', learnerStats(outcomes([[true, 'completed', 'a'], [true, 'completed', 'b']])))).toBe(50);
  });

  it('win rate > 0.8 raises by 15%, < 0.2 lowers by 15%', () => {
    const high = learnerStats(outcomes([[true, 'assigned', 'aaa'], [true, 'assigned', 'bbb'], [true, 'assigned', 'ccc']]));
    expect(suggestBid(100, 'zzz', high)).toBe(114); // int(100 * 1.15) with float error = 114
    const low = learnerStats(outcomes([[false, 'failed', 'a'], [false, 'failed', 'b'], [false, 'failed', 'c'], [false, 'failed', 'd'], [false, 'failed', 'e'], [false, 'failed', 'f']]));
    expect(suggestBid(100, 'zzz', low)).toBe(85);
  });

  it('success rate < 0.5 -> x1.25, > 0.8 -> x0.90 with at least 2 decided', () => {
    // 2 wins out of 4 (rate 0.5, neutral), both failed: success 0 -> 1.25
    const failing = learnerStats(outcomes([[true, 'failed', 'alpha'], [true, 'failed', 'beta'], [false, 'completed', 'x'], [false, 'completed', 'y']]));
    expect(suggestBid(100, 'zzz', failing)).toBe(125);
    const good = learnerStats(outcomes([[true, 'completed', 'alpha'], [true, 'completed', 'beta'], [false, 'completed', 'x'], [false, 'completed', 'y']]));
    expect(suggestBid(100, 'zzz', good)).toBe(90);
    // only one decided: no success adjustment
    const one = learnerStats(outcomes([[true, 'completed', 'alpha'], [true, 'running', 'beta'], [false, 'x', 'x'], [false, 'x', 'y']]));
    expect(suggestBid(100, 'zzz', one)).toBe(100);
  });

  it('keyword wins (>= 2, more than failures) -> x0.90; failures -> x1.15', () => {
    const stats = learnerStats(
      outcomes([
        [true, 'completed', 'parser bug'],
        [true, 'completed', 'parser speed'],
        [true, 'failed', 'deploy cluster'],
        [true, 'failed', 'deploy nodes'],
        [false, 'x', 'x'],
        [false, 'x', 'y'],
      ]),
    );
    // win rate 4/6, success 0.5: neutral; 'parser' has 2 wins
    expect(suggestBid(100, 'improve the parser', stats)).toBe(90);
    expect(suggestBid(100, 'deploy again', stats)).toBe(114);
    expect(suggestBid(100, 'unrelated words', stats)).toBe(100);
  });

  it('never below 1', () => {
    const low = learnerStats(outcomes([[false, 'x', 'a'], [false, 'x', 'b'], [false, 'x', 'c']]));
    expect(suggestBid(1, 'zzz', low)).toBe(1);
  });
});

describe('pickWinner', () => {
  it('lowest bid wins, ties to the earliest, none without bids', () => {
    expect(pickWinner([])).toBeNull();
    const bids = [
      { id: 'a', bidSats: 42, createdAt: '2026-01-01T00:00:00.001Z' },
      { id: 'b', bidSats: 35, createdAt: '2026-01-01T00:00:00.003Z' },
      { id: 'c', bidSats: 35, createdAt: '2026-01-01T00:00:00.002Z' },
    ];
    expect(pickWinner(bids)?.id).toBe('c');
  });
});

describe('slugifyAgentName', () => {
  it('lowercase [a-z0-9-], null when empty or persona-like', () => {
    expect(slugifyAgentName('Scout 7 (EU)')).toBe('scout-7-eu');
    expect(slugifyAgentName('!!!')).toBeNull();
    expect(slugifyAgentName('Persona Echo')).toBeNull();
    expect(slugifyAgentName('x'.repeat(100))).toHaveLength(64);
  });
});
