/**
 * In-process sign-bit codes of one embedding model (SQLite): the coarse pass of vector search as a tight scan over one
 * contiguous Uint32Array, with no SQLite reads. Bit i of a code is set when component i of the vector is > 0, packed
 * least-significant bit first per byte: the layout of sqlite-vec's `vec_quantize_binary`, so codes loaded from the
 * `memory_vec_*_bits` table and codes computed here compare equal.
 *
 * Consistency: on SQLite the memory store is the only writer of its tables, so the index is loaded once from the bits
 * table and then maintained by the store's own writes (insert, soft delete, clear). It may hold a code whose write
 * was rolled back; that is harmless, because the rescoring query re-checks every candidate against `memory_vectors`
 * and the filters. PostgreSQL (several instances) does not use it.
 */
export class SignCodeIndex {
  /** 32-bit words per code. */
  readonly words: number;
  private codes: Uint32Array;
  private nums: Int32Array;
  /** num -> slot + 1 (0 = absent). Entry nums are dense autoincrement integers. */
  private slotOf: Int32Array;
  private count = 0;

  constructor(readonly dim: number) {
    this.words = Math.ceil(dim / 32);
    this.codes = new Uint32Array(1024 * this.words);
    this.nums = new Int32Array(1024);
    this.slotOf = new Int32Array(1024);
  }

  get size(): number {
    return this.count;
  }

  has(num: number): boolean {
    return num < this.slotOf.length && this.slotOf[num] !== 0;
  }

  /** Adds or replaces the code of `num` from a vector. */
  addVector(num: number, v: Float32Array): void {
    this.put(num, signCode(v, this.words));
  }

  /** Adds or replaces the code of `num` from stored `vec_quantize_binary` bytes. */
  addBits(num: number, bits: Uint8Array): void {
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

  private put(num: number, code: Uint32Array): void {
    if (num >= this.slotOf.length) {
      const grown = new Int32Array(Math.max(num + 1, this.slotOf.length * 2));
      grown.set(this.slotOf);
      this.slotOf = grown;
    }
    let slot = this.slotOf[num] - 1;
    if (slot < 0) {
      if (this.count === this.nums.length) {
        const nums = new Int32Array(this.nums.length * 2);
        nums.set(this.nums);
        this.nums = nums;
        const codes = new Uint32Array(this.codes.length * 2);
        codes.set(this.codes);
        this.codes = codes;
      }
      slot = this.count++;
      this.nums[slot] = num;
      this.slotOf[num] = slot + 1;
    }
    this.codes.set(code, slot * this.words);
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
