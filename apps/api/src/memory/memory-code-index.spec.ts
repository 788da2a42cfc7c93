import Database from 'better-sqlite3';
import * as sqliteVec from 'sqlite-vec';
import { cosineSimilarity } from './embedders/embedder';
import { SignCodeIndex, signCode } from './memory-code-index';

/** Deterministic pseudo-random vectors (xorshift). */
function vectors(n: number, dim: number, seed = 7): Float32Array[] {
  let x = seed;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32) * 2 - 1;
  };
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, next));
}

function hamming(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > 0 !== b[i] > 0) d++;
  return d;
}

describe(SignCodeIndex.name, () => {
  it('computes the same codes as sqlite-vec vec_quantize_binary (codes loaded from the bits table compare equal)', () => {
    const db = new Database(':memory:');
    sqliteVec.load(db);
    for (const v of vectors(20, 384)) {
      const stored = db.prepare('SELECT vec_quantize_binary(?) AS b').get(Buffer.from(v.buffer)) as { b: Buffer };
      expect(Buffer.from(signCode(v, 12).buffer).equals(stored.b)).toBe(true);
    }
    db.close();
  });

  it('returns exactly the k nearest by Hamming distance, over all codes or a subset, and follows removals', () => {
    const vs = vectors(500, 384);
    const sut = new SignCodeIndex(384);
    vs.forEach((v, i) => sut.addVector(i + 1, v));
    const q = vectors(1, 384, 99)[0];
    const dist = vs.map((v, i) => ({ num: i + 1, d: hamming(q, v) }));
    const kth = (list: typeof dist, k: number) => [...list].sort((a, b) => a.d - b.d)[k - 1].d;

    const all = sut.nearest(q, 25, null);
    expect(all).toHaveLength(25);
    const cut = kth(dist, 25);
    for (const num of all) expect(dist[num - 1].d).toBeLessThanOrEqual(cut);
    expect(dist.filter((x) => x.d < cut).every((x) => all.includes(x.num))).toBe(true);

    const subset = dist.filter((x) => x.num % 3 === 0);
    const some = sut.nearest(q, 10, [...subset.map((x) => x.num), 9999]);
    expect(some.every((n) => n % 3 === 0)).toBe(true);
    expect(new Set(some).size).toBe(10);
    const subCut = kth(subset, 10);
    expect(subset.filter((x) => x.d < subCut).every((x) => some.includes(x.num))).toBe(true);

    for (const num of all) sut.remove(num);
    expect(sut.size).toBe(475);
    expect(sut.nearest(q, 25, null).some((n) => all.includes(n))).toBe(false);
    // a small set is returned whole; re-adding is idempotent
    sut.addVector(3, vs[2]);
    sut.addVector(3, vs[2]);
    expect(sut.nearest(q, 10, [3, 6]).sort()).toEqual([3, 6]);
    sut.clear();
    expect(sut.nearest(q, 10, null)).toEqual([]);
  });

  it('with keepVectors, rescores exactly (brute-force cosine), follows removals and lets a later write replace a slot', () => {
    const vs = vectors(300, 384, 11);
    const sut = new SignCodeIndex(384, true);
    vs.forEach((v, i) => sut.addVector(i + 1, v));
    const q = vectors(1, 384, 5)[0];
    const cos = cosineSimilarity;
    const nums = vs.map((_, i) => i + 1);
    const expected = nums.map((n) => ({ num: n, c: cos(q, vs[n - 1]) })).sort((a, b) => b.c - a.c);
    const got = sut.rescore(q, [...nums, 9999]);
    expect(got.map((g) => g.num)).toEqual(expected.map((e) => e.num));
    got.forEach((g, i) => expect(g.cosine).toBeCloseTo(expected[i].c, 6));
    // removing swaps the last slot into the hole: the moved entry keeps its own vector
    sut.remove(expected[0].num);
    sut.remove(1);
    const after = sut.rescore(q, nums);
    expect(after).toHaveLength(298);
    expect(after.map((g) => g.num)).toEqual(expected.map((e) => e.num).filter((n) => n !== expected[0].num && n !== 1));
    // a write of the same num (a reused num after a rolled-back write) replaces the vector
    sut.addVector(300, vs[0]);
    expect(sut.rescore(q, [300])[0].cosine).toBeCloseTo(cos(q, vs[0]), 6);
    expect(() => sut.addBits(5, new Uint8Array(48))).toThrow();
    expect(() => new SignCodeIndex(384).rescore(q, [1])).toThrow();
  });
});
