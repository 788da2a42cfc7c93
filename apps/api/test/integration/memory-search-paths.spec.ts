import { DataSource } from 'typeorm';
import { MemoryService } from '../../src/memory/memory.service';
import { MemoryStore, RESCORE_CANDIDATES } from '../../src/memory/memory-store';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';

/** Deterministic unit vectors (LCG), `dim` floats. */
function vectors(n: number, dim: number, seed = 7): number[][] {
  let s = seed >>> 0;
  const r = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: dim }, r);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  });
}

const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);

/**
 * The fast search paths (issue 9 section 5) on both databases: the vector coarse pass (sign bits + exact rescoring on
 * SQLite, the exact scan on PostgreSQL without pgvector) ranks a filtered set of at most RESCORE_CANDIDATES exactly
 * and skips deleted entries; the lexical candidate cap keeps the query's rarest terms (by document frequency, with
 * FTS5's own stemming on SQLite).
 */
describe.each(databaseKinds())('memory search paths (%s)', (db) => {
  let t: TestApp;
  let mem: MemoryService;

  beforeAll(async () => {
    t = await startTestApp({}, db);
    mem = t.app.get(MemoryService);
  });
  afterAll(async () => {
    await t.close();
  });

  it('vector search over a filtered set ranks it exactly (same order as a brute-force cosine) and skips deleted entries', async () => {
    const dim = mem.embedder.dimension;
    const vs = vectors(400, dim);
    const stored = await mem.storeMany(vs.map((v, i) => ({ content: `vector entry ${i}`, agentId: i % 2 === 0 ? 'vec-even' : 'vec-odd', embedding: v })));
    expect(200).toBeLessThanOrEqual(RESCORE_CANDIDATES);
    const [q] = vectors(1, dim, 99);
    const expected = stored
      .map((e, i) => ({ id: e.id, agentId: e.agentId, cos: cosine(q, vs[i]) }))
      .filter((e) => e.agentId === 'vec-even')
      .sort((a, b) => b.cos - a.cos);
    await mem.delete(expected[0].id); // the best one is deleted: it must not come back
    const ids = new Map(stored.map((e) => [e.id, e]));
    const rows = (await t.app.get(DataSource).query(`SELECT "num", "id" FROM "memory_entries" WHERE "agentId" = 'vec-even'`)) as { num: number | string; id: string }[];
    const idOf = new Map(rows.map((r) => [Number(r.num), r.id]));
    const got = await mem.db.nearest(mem.embedder.model, Float32Array.from(q), { agentId: 'vec-even' }, 20);
    expect(got.map((g) => idOf.get(g.num))).toEqual(expected.slice(1, 21).map((e) => e.id));
    for (const [i, g] of got.entries()) expect(g.cosine).toBeCloseTo(expected[i + 1].cos, 4);
    expect(ids.size).toBe(400);
  });

  it('the lexical cap keeps the rarest terms and drops a term found in most of the store', async () => {
    const common = Array.from({ length: 60 }, (_, i) => ({ content: `zebracommon walking note ${i}`, source: 'caps' }));
    await mem.storeMany([...common, { content: 'zebracommon okapirare sighting', source: 'caps' }, { content: 'okapirare running alone', source: 'caps' }]);
    const numsOf = async (terms: string[], cap: number) => (await mem.db.lexical(terms, { source: 'caps' }, 100, cap)).length;
    // without a tight cap both terms count: every entry with either term is a candidate
    expect(await numsOf(['zebracommon', 'okapirare'], 10_000)).toBe(62);
    if (db === 'sqlite') {
      // capped at 10 postings: the common term (61 documents) is dropped, the rare one (2) kept
      expect(await numsOf(['zebracommon', 'okapirare'], 10)).toBe(2);
      // stems as the index has them: `runs` finds `running` (porter), and its frequency is known (not counted 0)
      expect(await numsOf(['runs', 'zebracommon'], 10)).toBe(1);
      // one term is always kept, whatever its frequency
      expect(await numsOf(['zebracommon'], 1)).toBe(61);
      // every term over the cap: the rarest is kept, `walking` (60, stem `walk`) over `zebracommon` (61), whatever
      // the order given
      expect(await numsOf(['zebracommon', 'walking'], 5)).toBe(60);
      expect(await numsOf(['walking', 'zebracommon'], 5)).toBe(60);
      // the counts are remembered between searches but never across a write: `walking` gains 3 documents (63 > 61)
      // and `zebracommon` becomes the rarer term at once; after deleting them `walking` is the rarer one again
      const more = await mem.storeMany([0, 1, 2].map((i) => ({ content: `walking only ${i}`, source: 'caps' })));
      expect(await numsOf(['zebracommon', 'walking'], 5)).toBe(61);
      for (const e of more) await mem.delete(e.id);
      expect(await numsOf(['zebracommon', 'walking'], 5)).toBe(60);
    }
  });

  it('the in-process entry directory (SQLite) answers filters, candidates and neighbours as SQL does, after stores and deletes', async () => {
    const sqlStore = new MemoryStore(t.app.get(DataSource), { directory: false });
    expect(sqlStore.useDirectory).toBe(false);
    expect(mem.db.useDirectory).toBe(db === 'sqlite');
    const t0 = Date.parse('2026-03-01T00:00:00.000Z');
    const inputs = Array.from({ length: 120 }, (_, i) => ({
      content: `directory check entry ${i} about ${['apples', 'pears', 'plums'][i % 3]}`,
      type: i % 3 === 0 ? ('task_result' as const) : i % 2 === 0 ? ('conversation' as const) : ('observation' as const),
      source: i % 4 === 0 ? 'dirA' : 'dirB',
      agentId: i % 5 === 0 ? null : `dir-agent-${i % 3}`,
      taskId: i % 7 === 0 ? 'dir-task' : null,
      sessionId: i % 6 === 5 ? null : `dir-s${i % 4}`,
      createdAt: new Date(t0 + i * 60_000).toISOString(),
    }));
    const first = await mem.storeMany(inputs.slice(0, 60));
    // the directory is loaded here (first search after the first batch) and then kept in step by the next writes
    await mem.search('apples', { filters: { agentId: 'dir-agent-1' } });
    const second = await mem.storeMany(inputs.slice(60));
    const all = [...first, ...second];
    for (const e of [all[3], all[10], all[61], all[62], all[100]]) await mem.delete(e.id);
    const rows = (await t.app.get(DataSource).query(`SELECT "num" FROM "memory_entries" WHERE "content" LIKE 'directory check entry %'`)) as { num: number | string }[];
    const nums = rows.map((r) => Number(r.num)).sort((a, b) => a - b);
    const filters = [
      {},
      { agentId: 'dir-agent-1' },
      { agentId: 'dir-agent-2', includeShared: true },
      { agentId: 'nobody', includeShared: true },
      { agentId: 'nobody' },
      { type: 'observation' as const, source: 'dirB' },
      { taskId: 'dir-task' },
      { sessionId: 'dir-s2' },
      { from: inputs[30].createdAt, to: inputs[90].createdAt, agentId: 'dir-agent-0' },
    ];
    for (const f of filters) {
      const sorted = (xs: { num: number }[]) => [...xs].sort((a, b) => a.num - b.num);
      expect(sorted(await mem.db.candidateRows(nums, f))).toEqual(sorted(await sqlStore.candidateRows(nums, f)));
    }
    const nb = await mem.db.neighbors(nums);
    const nbSql = await sqlStore.neighbors(nums);
    expect(new Map([...nb].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...nbSql].sort((a, b) => a[0] - b[0])));
    // whole searches agree too (filtered and not): the same service with the SQL-only store, once the background
    // embedder is done (a vector written between the two searches would change the second)
    await waitFor(async () => ((await mem.stats()).queueLag === 0 ? true : null));
    const svc = mem as unknown as { db: MemoryStore };
    const own = svc.db;
    for (const f of [{}, { agentId: 'dir-agent-1' }, { sessionId: 'dir-s1' }, { agentId: 'dir-agent-0', includeShared: true }]) {
      const a = await mem.search('plums directory entry', { filters: f, limit: 30 });
      svc.db = sqlStore;
      try {
        const b = await mem.search('plums directory entry', { filters: f, limit: 30 });
        expect(a.hits.map((h) => [h.entry.id, h.score])).toEqual(b.hits.map((h) => [h.entry.id, h.score]));
      } finally {
        svc.db = own;
      }
      expect(a.hits.length).toBeGreaterThan(0);
      expect(a.hits.every((h) => !h.entry.deletedAt)).toBe(true);
    }
  });
});
