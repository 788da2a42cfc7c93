import { SeqTracker } from './seq-tracker';

describe(SeqTracker.name, () => {
  it('accepts each seq once and tracks the highest as the cursor', () => {
    const sut = new SeqTracker();
    expect(sut.lastSeq).toBeNull();
    expect([5, 7, 5, 9, 7].map((s) => sut.accept(s))).toEqual([true, true, false, true, false]);
    expect(sut.lastSeq).toBe(9);
  });

  it('accepts a late lower seq that was never seen (out-of-order delivery) without moving the cursor back', () => {
    const sut = new SeqTracker();
    sut.accept(10);
    expect(sut.accept(8)).toBe(true);
    expect(sut.accept(8)).toBe(false);
    expect(sut.lastSeq).toBe(10);
  });

  it('drops a replay of everything already seen after a reconnect', () => {
    const sut = new SeqTracker();
    for (const s of [1, 2, 3, 4]) sut.accept(s);
    const replay = [3, 4, 5, 6];
    expect(replay.filter((s) => sut.accept(s))).toEqual([5, 6]);
  });

  it('treats seqs at or below a snapshot cursor as seen', () => {
    const sut = new SeqTracker();
    sut.accept(3);
    sut.advanceTo(20);
    expect(sut.lastSeq).toBe(20);
    expect(sut.accept(15)).toBe(false);
    expect(sut.accept(20)).toBe(false);
    expect(sut.accept(21)).toBe(true);
    sut.advanceTo(5);
    expect(sut.lastSeq).toBe(21);
  });

  it('keeps a bounded window: evicted seqs count as seen', () => {
    const sut = new SeqTracker(3);
    for (const s of [1, 2, 3, 4, 5]) expect(sut.accept(s)).toBe(true);
    expect(sut.accept(1)).toBe(false);
    expect(sut.accept(2)).toBe(false);
    expect(sut.accept(5)).toBe(false);
    expect(sut.accept(6)).toBe(true);
  });

  it('rejects non-integer seqs and forgets everything on reset (new epoch)', () => {
    const sut = new SeqTracker();
    expect(sut.accept(Number.NaN)).toBe(false);
    expect(sut.accept(1.5)).toBe(false);
    sut.accept(50);
    sut.reset();
    expect(sut.lastSeq).toBeNull();
    expect(sut.accept(1)).toBe(true);
  });
});
