import { randomInt } from 'node:crypto';

/** Random integer in [min, max] (both inclusive). Injected so bid rules are testable. */
export type RandInt = (min: number, max: number) => number;

/** Cryptographic uniform random integer in [min, max]. */
export const defaultRandInt: RandInt = (min, max) => randomInt(min, max + 1);

/** What the bid rule needs from a persona (amounts in sats). */
export interface BidProfile {
  baseBidSats: number;
  jitterSats: number;
  preferredKeywords: readonly string[];
}

/** Ceiling of an off-spec persona bid before learner adjustment (sats). */
export const OFF_SPEC_CAP_SATS = 200;
/** Outcomes an agent needs before the learner adjusts its bids. */
export const LEARNER_MIN_OUTCOMES = 3;

/** True when the lowercased description contains one of the (lowercase) keywords as a substring. */
export function matchesKeyword(description: string, keywords: readonly string[]): boolean {
  const text = description.toLowerCase();
  return keywords.some((k) => text.includes(k.toLowerCase()));
}

/**
 * The prototype's persona bid before learning (sats):
 * keyword hit -> `max(1, base - randInt(0, jitter))`, else `min(200, int(base * 1.8) + randInt(0, jitter))`.
 */
export function personaRawBid(profile: BidProfile, description: string, rand: RandInt = defaultRandInt): number {
  if (matchesKeyword(description, profile.preferredKeywords)) {
    return Math.max(1, profile.baseBidSats - rand(0, profile.jitterSats));
  }
  return Math.min(OFF_SPEC_CAP_SATS, Math.floor(profile.baseBidSats * 1.8) + rand(0, profile.jitterSats));
}

/** Words the learner ignores when extracting task keywords. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'the', 'and', 'for', 'are', 'but', 'not', 'you', 'all', 'any', 'can', 'had', 'her', 'was', 'one', 'our', 'out',
  'has', 'have', 'his', 'how', 'its', 'may', 'new', 'now', 'old', 'see', 'two', 'way', 'who', 'did', 'get', 'let',
  'say', 'she', 'too', 'use', 'this', 'that', 'with', 'from', 'they', 'will', 'would', 'there', 'their', 'what',
  'about', 'which', 'when', 'make', 'like', 'time', 'just', 'know', 'take', 'into', 'your', 'some', 'could', 'them',
  'than', 'then', 'look', 'only', 'come', 'over', 'also', 'back', 'after', 'work', 'first', 'well', 'even', 'want',
  'because', 'these', 'give', 'most', 'should', 'please', 'been', 'were', 'being', 'does', 'done', 'each', 'such',
  'very', 'where', 'while', 'here', 'more', 'other', 'before', 'between', 'through', 'under', 'again',
]);

/** Distinct lowercase words of 3+ letters in `text`, stop-words removed, in order of first appearance. */
export function extractKeywords(text: string): string[] {
  const words = text.toLowerCase().match(/[a-z]{3,}/g) ?? [];
  return [...new Set(words.filter((w) => !STOP_WORDS.has(w)))];
}

/** One past bid of an agent, joined with the task it was on. */
export interface LearnerOutcome {
  won: boolean;
  /** Status of the task now (completed/failed decide a won task's success). */
  taskStatus: string;
  description: string;
}

/** Aggregates the learner works from (`suggest_bid` metrics of the prototype). */
export interface LearnerStats {
  outcomes: number;
  wins: number;
  succeeded: number;
  failed: number;
  keywordWins: Map<string, number>;
  keywordFailures: Map<string, number>;
}

/** Task statuses whose auction has not closed yet: a bid on them is no outcome (yet). */
const AUCTION_OPEN_STATUSES: ReadonlySet<string> = new Set(['pending', 'bidding']);

/**
 * Whether a bid is an auction outcome: only closed auctions count (issue 12; the prototype recorded outcomes when the
 * auction closed). A task still pending/bidding is not; a cancelled task the agent did not win is treated as never
 * decided (cancelled while bidding) rather than as a lost auction.
 */
export function isAuctionOutcome(o: Pick<LearnerOutcome, 'won' | 'taskStatus'>): boolean {
  if (AUCTION_OPEN_STATUSES.has(o.taskStatus)) return false;
  return o.won || o.taskStatus !== 'cancelled';
}

/**
 * Builds learner stats from an agent's bids (only closed auctions, `isAuctionOutcome`): wins, decided
 * successes/failures and keyword tallies of won tasks.
 */
export function learnerStats(all: readonly LearnerOutcome[]): LearnerStats {
  const outcomes = all.filter(isAuctionOutcome);
  const stats: LearnerStats = { outcomes: outcomes.length, wins: 0, succeeded: 0, failed: 0, keywordWins: new Map(), keywordFailures: new Map() };
  for (const o of outcomes) {
    if (!o.won) continue;
    stats.wins++;
    const tally = o.taskStatus === 'completed' ? stats.keywordWins : o.taskStatus === 'failed' ? stats.keywordFailures : null;
    if (!tally) continue;
    if (o.taskStatus === 'completed') stats.succeeded++;
    else stats.failed++;
    for (const w of extractKeywords(o.description)) tally.set(w, (tally.get(w) ?? 0) + 1);
  }
  return stats;
}

/**
 * The prototype's `suggest_bid`: returns `baseBid` unchanged below 3 outcomes, else `max(1, int(baseBid * factor))` with
 * factor x1.15 if win rate > 0.8 or x0.85 if < 0.2; x1.25 if success rate < 0.5 or x0.90 if > 0.8 (only with >= 2
 * decided won tasks); x0.90 if the task's keywords have more wins than failures and >= 2 wins, x1.15 if more failures
 * than wins and >= 2 failures. Amounts in sats.
 */
export function suggestBid(baseBid: number, description: string, stats: LearnerStats): number {
  if (stats.outcomes < LEARNER_MIN_OUTCOMES) return baseBid;
  let factor = 1;
  const winRate = stats.wins / stats.outcomes;
  if (winRate > 0.8) factor *= 1.15;
  else if (winRate < 0.2) factor *= 0.85;
  const decided = stats.succeeded + stats.failed;
  if (decided >= 2) {
    const successRate = stats.succeeded / decided;
    if (successRate < 0.5) factor *= 1.25;
    else if (successRate > 0.8) factor *= 0.9;
  }
  const words = extractKeywords(description);
  if (words.length > 0) {
    const wins = words.reduce((n, w) => n + (stats.keywordWins.get(w) ?? 0), 0);
    const fails = words.reduce((n, w) => n + (stats.keywordFailures.get(w) ?? 0), 0);
    if (wins > fails && wins >= 2) factor *= 0.9;
    else if (fails > wins && fails >= 2) factor *= 1.15;
  }
  return Math.max(1, Math.floor(baseBid * factor));
}

/** Picks the auction winner: the lowest bid, ties to the earliest `createdAt` (ISO strings compare in time order). */
export function pickWinner<T extends { bidSats: number; createdAt: string }>(bids: readonly T[]): T | null {
  let best: T | null = null;
  for (const b of bids) {
    if (!best || b.bidSats < best.bidSats || (b.bidSats === best.bidSats && b.createdAt < best.createdAt)) best = b;
  }
  return best;
}

/**
 * Agent id for an external agent named `name`: lowercase `[a-z0-9-]` slug (max 64 chars), or null when nothing is left
 * or it would look like a persona id.
 */
export function slugifyAgentName(name: string): string | null {
  const slug = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/g, '');
  if (!slug || slug.startsWith('persona-')) return null;
  return slug;
}
