import request from 'supertest';
import { DataSource } from 'typeorm';
import { MemoryService } from '../../src/memory/memory.service';
import { createPgDatabase, databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { startFakeEmbedder, type FakeEmbeddingServer } from '../support/fakes/fake-embedding-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Embedders against fake Ollama / OpenAI-compatible servers (issue 9 section 2): wire format and batching, vectors
 * recorded with model + dimension, outage back-off with search served lexically meanwhile, a dimension mismatch
 * stops embedding and writes nothing, a restart with a deep queue embeds each entry exactly once, and a model change
 * re-embeds the store in the background with reindex events.
 */
describe.each(databaseKinds())('memory embedders (%s)', (db) => {
  let fake: FakeEmbeddingServer;
  let dbOverride: Record<string, string>;
  let dropPg: (() => Promise<void>) | null = null;
  let dir: string;
  const apps: TestApp[] = [];
  const start = async (over: Record<string, unknown>) => {
    const t = await startTestApp({ ...dbOverride, MEMORY_EMBED_TIMEOUT_MS: 1000, ...over }, db);
    apps.push(t);
    return t;
  };
  const auth = (t: TestApp) => ({ authorization: `Bearer ${t.adminKey}` });
  const vectors = async (t: TestApp, model: string) => {
    const r = (await t.app.get(DataSource).query(`SELECT COUNT(*) AS n FROM "memory_vectors" WHERE "model" = ${db === 'postgres' ? '$1' : '?'}`, [model])) as { n: string }[];
    return Number(r[0].n);
  };

  beforeEach(async () => {
    fake = await startFakeEmbedder(384);
    dir = mkdtempSync(join(tmpdir(), 'mc-emb-'));
    if (db === 'postgres') {
      const pg = await createPgDatabase();
      dropPg = pg.drop;
      dbOverride = { DATABASE_URL: pg.url };
    } else {
      dbOverride = { SQLITE_PATH: join(dir, 'mem.db') };
    }
  });
  afterEach(async () => {
    while (apps.length) await apps.pop()!.close();
    await fake.stop();
    if (dropPg) await dropPg();
    dropPg = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('transformers with a missing model directory: the chain falls back to the hashing embedder, stats say so, search serves', async () => {
    const missing = join(dir, 'no-such-model');
    const t = await start({ MEMORY_EMBEDDER: 'transformers', MEMORY_EMBED_MODEL_DIR: missing });
    const mem = t.app.get(MemoryService);
    await mem.store({ content: 'the lighthouse keeper logs the storm', source: 'user' });
    await waitFor(async () => (await vectors(t, 'hash-fnv1a-v1-384')) === 1);
    const stats = await request(t.url).get('/api/memory/stats').set(auth(t)).expect(200);
    expect(stats.body.embedder).toMatchObject({ kind: 'fallback', configured: 'transformers', model: 'hash-fnv1a-v1-384', state: 'ok' });
    expect(stats.body.embedder.fallbackReason).toContain(missing);
    const s = await request(t.url).post('/api/memory/search').set(auth(t)).send({ query: 'lighthouse storm' }).expect(200);
    expect(s.body.hits[0].entry.content).toContain('lighthouse');
  });

  it('Ollama /api/embed: batches of MEMORY_EMBED_BATCH, vectors recorded as ollama:<model> 384-d, hybrid search uses them', async () => {
    const t = await start({ MEMORY_EMBEDDER: 'ollama', MEMORY_EMBED_URL: fake.url, MEMORY_EMBED_MODEL: 'all-minilm', MEMORY_EMBED_BATCH: 8 });
    const mem = t.app.get(MemoryService);
    await mem.storeMany(Array.from({ length: 20 }, (_, i) => ({ content: `note ${i} about lighthouse keepers`, source: 'user' })));
    await waitFor(async () => (await vectors(t, 'ollama:all-minilm')) === 20);
    expect(fake.requests.every((r) => r.path === '/api/embed' && r.model === 'all-minilm' && r.inputs.length <= 8)).toBe(true);
    const stored = fake.requests.filter((r) => r.inputs.some((x) => x.startsWith('note ')));
    expect(stored.reduce((n, r) => n + r.inputs.length, 0)).toBe(20);
    const s = await request(t.url).post('/api/memory/search').set(auth(t)).send({ query: 'lighthouse keepers' }).expect(200);
    expect(s.body).toMatchObject({ mode: 'hybrid', model: 'ollama:all-minilm', degraded: null });
    expect(s.body.hits[0].components.vector).toBeGreaterThan(0);
  });

  it('OpenAI /v1/embeddings: bearer key sent, results put back in index order', async () => {
    const t = await start({ MEMORY_EMBEDDER: 'openai', MEMORY_EMBED_URL: `${fake.url}/v1`, MEMORY_EMBED_MODEL: 'text-embedding-3-small', MEMORY_EMBED_API_KEY: 'sk-test-emb-123456' });
    const mem = t.app.get(MemoryService);
    const [a, b] = await mem.storeMany([{ content: 'alpha alpha alpha' }, { content: 'omega omega omega' }]);
    await waitFor(async () => (await vectors(t, 'openai:text-embedding-3-small')) === 2);
    expect(fake.requests[0]).toMatchObject({ path: '/v1/embeddings', authorization: 'Bearer sk-test-emb-123456' });
    const s = await mem.search('omega', { mode: 'vector', limit: 1 });
    expect(s.hits[0].entry.id).toBe(b.id);
    expect(s.hits[0].entry.id).not.toBe(a.id);
    const stats = await request(t.url).get('/api/memory/stats').set(auth(t)).expect(200);
    expect(JSON.stringify(stats.body)).not.toContain('sk-test-emb');
  });

  it('an outage backs off and retries; meanwhile entries are keyword-searchable and search says lexical', async () => {
    fake.setFault({ kind: 'status', status: 503 });
    const t = await start({ MEMORY_EMBEDDER: 'ollama', MEMORY_EMBED_URL: fake.url });
    const e = await request(t.url).post('/api/memory').set(auth(t)).send({ content: 'the walrus sleeps on the ice' }).expect(201);
    const st = await waitFor(async () => {
      const r = await request(t.url).get('/api/memory/stats').set(auth(t)).expect(200);
      return r.body.embedder.state === 'backing_off' ? r.body : null;
    });
    expect(st.embedder.lastError).toContain('503');
    expect(st.queueLag).toBe(1);
    const s = await request(t.url).post('/api/memory/search').set(auth(t)).send({ query: 'walrus' }).expect(200);
    expect(s.body).toMatchObject({ mode: 'lexical', degraded: 'embedder_unavailable' });
    expect(s.body.hits[0].entry.id).toBe(e.body.id);
    fake.setFault(null);
    await waitFor(async () => (await request(t.url).get('/api/memory/stats').set(auth(t))).body.queueLag === 0, 15_000);
    const after = await request(t.url).get('/api/memory/stats').set(auth(t)).expect(200);
    expect(after.body.embedder).toMatchObject({ state: 'ok', lastError: null });
  });

  it('a dimension mismatch from a misconfigured embedder stops embedding and writes no vector', async () => {
    fake.setFault({ kind: 'wrongDimension', dimension: 768 });
    const t = await start({ MEMORY_EMBEDDER: 'ollama', MEMORY_EMBED_URL: fake.url });
    await request(t.url).post('/api/memory').set(auth(t)).send({ content: 'some text to embed' }).expect(201);
    const st = await waitFor(async () => {
      const r = await request(t.url).get('/api/memory/stats').set(auth(t)).expect(200);
      return r.body.embedder.state === 'unavailable' ? r.body : null;
    });
    expect(st.embedder.lastError).toMatch(/dimension mismatch/);
    expect(await vectors(t, 'ollama:all-minilm')).toBe(0);
  });

  it('restart with a deep queue resumes and embeds each entry exactly once', async () => {
    await fake.stop(); // embedder down: the queue grows
    const t1 = await start({ MEMORY_EMBEDDER: 'ollama', MEMORY_EMBED_URL: fake.url, MEMORY_EMBED_BATCH: 32 });
    await t1.app.get(MemoryService).storeMany(Array.from({ length: 300 }, (_, i) => ({ content: `queued entry number ${i}` })));
    expect((await request(t1.url).get('/api/memory/stats').set(auth(t1))).body.queueLag).toBe(300);
    await apps.pop()!.close();
    await fake.start(fake.port);
    const t2 = await start({ MEMORY_EMBEDDER: 'ollama', MEMORY_EMBED_URL: fake.url, MEMORY_EMBED_BATCH: 32, ...(db === 'sqlite' ? { SQLITE_PATH: dbOverride.SQLITE_PATH } : {}) });
    await waitFor(async () => (await vectors(t2, 'ollama:all-minilm')) === 300, 20_000);
    const embedded = fake.embeddedInputs.filter((x) => x.startsWith('queued entry'));
    expect(embedded.length).toBe(300);
    expect(new Set(embedded).size).toBe(300);
  });

  it('a model change re-embeds the store in the background with reindex events; old vectors stay', async () => {
    const t1 = await start({});
    await t1.app.get(MemoryService).storeMany(Array.from({ length: 40 }, (_, i) => ({ content: `fact number ${i} about otters` })));
    await waitFor(async () => (await vectors(t1, 'hash-fnv1a-v1-384')) === 40);
    await apps.pop()!.close();
    const t2 = await start({ MEMORY_EMBEDDER: 'ollama', MEMORY_EMBED_URL: fake.url, MEMORY_EMBED_BATCH: 8 });
    await waitFor(async () => {
      const ev = await request(t2.url).get('/api/events').query({ type: 'memory.reindex_completed' }).set(auth(t2)).expect(200);
      return ((ev.body.items ?? ev.body.events ?? ev.body) as unknown[]).length > 0;
    }, 20_000);
    const started = await request(t2.url).get('/api/events').query({ type: 'memory.reindex_started' }).set(auth(t2)).expect(200);
    const items = (started.body.items ?? started.body.events ?? started.body) as { data: { model: string; total: number } }[];
    expect(items[0].data).toMatchObject({ model: 'ollama:all-minilm', total: 40 });
    const st = await request(t2.url).get('/api/memory/stats').set(auth(t2)).expect(200);
    expect(st.body.vectorsByModel).toEqual({ 'hash-fnv1a-v1-384': 40, 'ollama:all-minilm': 40 });
  });
});
