/**
 * In-process sign-bit codes of one embedding model (SQLite): the coarse pass of vector search as a tight scan over one
 * contiguous Uint32Array, with no SQLite reads. Bit i of a code is set when component i of the vector is > 0, packed
 * least-significant bit first per byte: the layout of sqlite-vec's `vec_quantize_binary`, so codes loaded from the
 * `memory_vec_*_bits` table and codes computed here compare equal.
 *
 * With `keepVectors` it also keeps each vector's float32 components (dim x 4 bytes per entry: 1,536 B at 384-d, about
 * 154 MB at 100,000 entries), so the exact cosine of the coarse candidates is computed here too (`rescore`) instead of
 * reading 1,000 scattered vectors from SQLite.
 *
 * Consistency (single instance only): on SQLite the memory store is the only writer of its tables (one process owns
 * the file), so the index is loaded once from `memory_vectors` and then maintained by the store's own writes
 * (insert, soft delete, clear). A write that is rolled back can leave a code and vector here: the store re-checks
 * the final candidates against `memory_vectors` and the filters in SQL, and a later committed write of the same num
 * replaces the slot (`addVector` always overwrites). PostgreSQL (several instances) never uses it.
 */
export class SignCodeIndex {
  /** 32-bit words per code. */
  readonly words: number;
  private codes: Uint32Array;
  /** Float32 components per slot (`dim` each), when `keepVectors`. */
  private vecs: Float32Array | null;
  /** Euclidean norm per slot, when `keepVectors`. */
  private norms: Float32Array | null;
  private nums: Int32Array;
  /** num -> slot + 1 (0 = absent). Entry nums are dense autoincrement integers. */
  private slotOf: Int32Array;
  private count = 0;

  /**
   * @param dim vector dimension
   * @param keepVectors also keep the float32 vectors for `rescore` (addBits is then refused: a code alone has no vector)
   */
  constructor(
    readonly dim: number,
    readonly keepVectors = false,
  ) {
    this.words = Math.ceil(dim / 32);
    this.codes = new Uint32Array(1024 * this.words);
    this.vecs = keepVectors ? new Float32Array(1024 * dim) : null;
    this.norms = keepVectors ? new Float32Array(1024) : null;
    this.nums = new Int32Array(1024);
    this.slotOf = new Int32Array(1024);
  }

  get size(): number {
    return this.count;
  }

  has(num: number): boolean {
    return num < this.slotOf.length && this.slotOf[num] !== 0;
  }

  /** Adds or replaces the code (and, with keepVectors, the vector) of `num`. `v` must have `dim` components. */
  addVector(num: number, v: Float32Array): void {
    const slot = this.put(num, signCode(v, this.words));
    if (this.vecs && this.norms) {
      const base = slot * this.dim;
      let n = 0;
      for (let i = 0; i < this.dim; i++) {
        const x = i < v.length ? v[i] : 0;
        this.vecs[base + i] = x;
        n += x * x;
      }
      this.norms[slot] = Math.sqrt(n);
    }
  }

  /**
   * Adds or replaces the code of `num` from stored `vec_quantize_binary` bytes.
   * @throws Error when the index keeps vectors (a code alone would leave the slot without its vector).
   */
  addBits(num: number, bits: Uint8Array): void {
    if (this.keepVectors) throw new Error('SignCodeIndex.addBits: this index keeps vectors; use addVector');
    const w = new Uint32Array(this.words);
    new Uint8Array(w.buffer).set(bits.subarray(0, Math.min(bits.length, this.words * 4)));
    this.put(num, w);
  }

  remove(num: number): void {
    if (!this.has(num)) return;
    const slot = this.slotOf[num] - 1;
    const last = this.count - 1;
    if (slot !== last) {
      const moved = this.nums[last];
      this.codes.copyWithin(slot * this.words, last * this.words, (last + 1) * this.words);
      if (this.vecs && this.norms) {
        this.vecs.copyWithin(slot * this.dim, last * this.dim, (last + 1) * this.dim);
        this.norms[slot] = this.norms[last];
      }
      this.nums[slot] = moved;
      this.slotOf[moved] = slot + 1;
    }
    this.slotOf[num] = 0;
    this.count--;
  }

  clear(): void {
    this.count = 0;
    this.slotOf.fill(0);
  }

  /**
   * The `k` nums closest to `query` by Hamming distance of the sign bits, among `among` (null: every code). Ties at the
   * cut-off are taken in slot order. Order of the result is not by distance (the caller rescores exactly).
   */
  nearest(query: Float32Array, k: number, among: readonly number[] | null): number[] {
    const q = signCode(query, this.words);
    const W = this.words;
    const codes = this.codes;
    const n = among === null ? this.count : among.length;
    const slots = new Int32Array(n);
    const dist = new Uint16Array(n);
    let m = 0;
    for (let i = 0; i < n; i++) {
      let slot: number;
      if (among === null) slot = i;
      else {
        const num = among[i];
        if (num >= this.slotOf.length || this.slotOf[num] === 0) continue;
        slot = this.slotOf[num] - 1;
      }
      let d = 0;
      const base = slot * W;
      for (let w = 0; w < W; w++) d += popcount(codes[base + w] ^ q[w]);
      slots[m] = slot;
      dist[m] = d;
      m++;
    }
    if (m <= k) return Array.from(slots.subarray(0, m), (s) => this.nums[s]);
    // counting selection: distances are small integers (0..dim)
    const hist = new Uint32Array(W * 32 + 2);
    for (let i = 0; i < m; i++) hist[dist[i]]++;
    let cut = 0;
    let below = 0;
    while (below + hist[cut] < k) below += hist[cut++];
    let tiesLeft = k - below;
    const out: number[] = [];
    for (let i = 0; i < m; i++) {
      const d = dist[i];
      if (d < cut) out.push(this.nums[slots[i]]);
      else if (d === cut && tiesLeft > 0) {
        out.push(this.nums[slots[i]]);
        tiesLeft--;
      }
    }
    return out;
  }

  /**
   * Exact cosine similarity of `query` with the kept vector of each of `nums` (nums without a slot are left out), best
   * first (ties: lower num first). A zero vector scores 0, as sqlite-vec's distance is then taken as 1.
   * @throws Error when the index does not keep vectors.
   */
  rescore(query: Float32Array, nums: readonly number[]): { num: number; cosine: number }[] {
    const vecs = this.vecs;
    const norms = this.norms;
    if (!vecs || !norms) throw new Error('SignCodeIndex.rescore: this index does not keep vectors');
    const D = this.dim;
    const L = Math.min(D, query.length);
    const slotOf = this.slotOf;
    let qn = 0;
    for (let i = 0; i < L; i++) qn += query[i] * query[i];
    qn = Math.sqrt(qn);
    const out: { num: number; cosine: number }[] = [];
    for (const num of nums) {
      if (num >= slotOf.length || slotOf[num] === 0) continue;
      const slot = slotOf[num] - 1;
      const base = slot * D;
      let s = 0;
      for (let i = 0; i < L; i++) s += query[i] * vecs[base + i];
      const denom = qn * norms[slot];
      out.push({ num, cosine: denom === 0 ? 0 : s / denom });
    }
    out.sort((a, b) => b.cosine - a.cosine || a.num - b.num);
    return out;
  }

  /** Slot of `num` after adding or replacing its code. */
  private put(num: number, code: Uint32Array): number {
    if (num >= this.slotOf.length) {
      const grown = new Int32Array(Math.max(num + 1, this.slotOf.length * 2));
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    let slot = this.slotOf[num] - 1;
    if (slot < 0) {
      if (this.count === this.nums.length) {
        // grow by half (the vectors are the big part: at 100,000 x 384-d, doubling would reserve ~100 MB unused)
        const cap = Math.ceil(this.nums.length * 1.5);
        const nums = new Int32Array(cap);
        nums.set(this.nums);
        this.nums = nums;
        const codes = new Uint32Array(cap * this.words);
        codes.set(this.codes);
        this.codes = codes;
        if (this.vecs && this.norms) {
          const vecs = new Float32Array(cap * this.dim);
          vecs.set(this.vecs);
          this.vecs = vecs;
          const norms = new Float32Array(cap);
          norms.set(this.norms);
          this.norms = norms;
        }
      }
      slot = this.count++;
      this.nums[slot] = num;
      this.slotOf[num] = slot + 1;
    }
    this.codes.set(code, slot * this.words);
    return slot;
  }
}

/** Sign bits of `v` (bit i set when v[i] > 0), LSB first per byte, as 32-bit little-endian words. */
export function signCode(v: Float32Array, words: number): Uint32Array {
  const out = new Uint32Array(words);
  const bytes = new Uint8Array(out.buffer);
  for (let i = 0; i < v.length && i < words * 32; i++) if (v[i] > 0) bytes[i >> 3] |= 1 << (i & 7);
  return out;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}
