import type { MemoryEntryDto } from '@app/contracts';

/** One version of a fact placed on the timeline: offsets are percent of the timeline's width. */
export type TimelineSegment = {
  entry: MemoryEntryDto;
  /** Start, percent of the width (0..100). */
  left: number;
  /** Length, percent of the width (at least 0.5 so an instant stays visible). */
  width: number;
  /** Still valid (no validTo). */
  open: boolean;
};

/**
 * Lays out the versions of one fact (subject/key) on a shared time axis from the first validFrom to `nowMs`
 * (milliseconds since the epoch); an open version runs to now.
 */
export function factTimeline(versions: MemoryEntryDto[], nowMs: number): { start: number; end: number; segments: TimelineSegment[] } {
  const dated = versions.filter((v) => v.validFrom !== null);
  if (dated.length === 0) return { start: nowMs, end: nowMs, segments: [] };
  const from = (v: MemoryEntryDto) => Date.parse(v.validFrom!);
  const to = (v: MemoryEntryDto) => (v.validTo ? Date.parse(v.validTo) : nowMs);
  const start = Math.min(...dated.map(from));
  const end = Math.max(nowMs, ...dated.map(to));
  const span = Math.max(1, end - start);
  const segments = [...dated]
    .sort((a, b) => from(a) - from(b))
    .map((entry) => {
      const left = ((from(entry) - start) / span) * 100;
      const width = Math.max(0.5, ((to(entry) - from(entry)) / span) * 100);
      return { entry, left, width: Math.min(width, 100 - left), open: entry.validTo === null };
    });
  return { start, end, segments };
}
