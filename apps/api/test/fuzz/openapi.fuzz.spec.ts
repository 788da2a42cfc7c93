import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ADMIN_PASSWORD, createUserKey, databaseKinds, startTestApp, type TestApp } from '../support/test-app';
import {
  caseArb,
  checkResponse,
  operationsFrom,
  secretsOf,
  tableCounter,
  type Finding,
  type FuzzCase,
  type FuzzReport,
  type Who,
} from './openapi-fuzz';

/**
 * OpenAPI-driven fuzz suite (issue 11, section 4; generator and checks in ./openapi-fuzz.ts). In the normal test run a
 * seeded sample (FUZZ_RUNS, default 1,000 cases per database, FUZZ_SEED default 20261202); `pnpm fuzz` runs 10,000+
 * with a fresh seed and prints the report as one JSON line (FUZZ_REPORT: where this spec writes it).
 * Any finding fails the test, listing the first ones with the request that caused them.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const DBS = (process.env.FUZZ_DBS ?? '').split(',').filter(Boolean);
const kinds = databaseKinds().filter((k) => DBS.length === 0 || DBS.includes(k));
const USER_PASSWORD = 'a-long-fuzz-password';

describe.each(kinds)('OpenAPI fuzz (%s)', (db) => {
  let t: TestApp;
  let fake: FakeLlmServer;
  const keys: Partial<Record<Who, string>> = {};
  const ids: Record<string, string[]> = {};

  beforeAll(async () => {
    fake = await startFake('ollama', 'fuzz-ollama');
    const providers = writeProvidersYaml({
      cascade: fastCascade({ health_check: { interval_ms: 0, timeout_ms: 500 } }),
      providers: [{ name: 'fuzz-ollama', type: 'ollama', priority: 1, url: fake.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp(
      { LOGIN_RATE_LIMIT: 100_000, AUCTION_WINDOW_MS: 3_600_000, HEARTBEAT_TIMEOUT_MS: 86_400_000, LLM_PROVIDERS_PATH: providers },
      db,
    );
    const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
    keys.admin = t.adminKey;
    keys.operator = await createUserKey(t, 'operator');
    keys.viewer = await createUserKey(t, 'viewer');
    keys.agent = (await request(t.url).post('/api/agents').set(bearer(keys.operator!)).send({ name: 'Fuzz Agent', capabilities: ['research'] }).expect(201)).body.key;
    // rows a valid-ish request can aim at (never the principals' own keys, users or agent: the fuzzer may delete them)
    const spare = await request(t.url).post('/api/agents').set(bearer(keys.operator!)).send({ name: 'Fuzz Spare Agent' }).expect(201);
    const spareAgentId = spare.body.agent?.id ?? spare.body.id;
    const task = await request(t.url).post('/api/tasks').set(bearer(keys.operator!)).send({ description: 'fuzz target', auctionWindowMs: 3_600_000 }).expect(201);
    const user = await request(t.url).post('/api/users').set(bearer(t.adminKey)).send({ username: 'fuzzspare', password: USER_PASSWORD, role: 'viewer' }).expect(201);
    const question = await request(t.url).post('/api/questions').set(bearer(keys.agent!)).send({ question: 'fuzz?', options: ['y', 'n'] });
    Object.assign(ids, {
      task: [task.body.id ?? task.body.task?.id].filter(Boolean),
      agent: [spareAgentId].filter(Boolean),
      user: [user.body.id],
      question: [question.body.id].filter(Boolean),
    });
    for (const k of Object.values(keys)) await request(t.url).get('/api/auth/me').set(bearer(k!)).expect(200);
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  it(`${RUNS} generated requests: no 5xx, error shape, security headers, no writes on rejection, no secrets`, async () => {
    const started = Date.now();
    const doc = (await request(t.url).get('/api/docs-json').expect(200)).body;
    const ops = operationsFrom(doc);
    expect(ops.length).toBeGreaterThan(50);
    const cases = fc.sample(caseArb(ops, doc, ids), { seed: SEED, numRuns: RUNS });
    const counts = await tableCounter(t.app.get(DataSource));
    const secrets = secretsOf([ADMIN_PASSWORD, USER_PASSWORD], Object.values(keys) as string[]);
    const findings: Finding[] = [];
    const byStatus: Record<string, number> = {};
    const byPrincipal: Record<string, number> = {};
    const covered = new Set<string>();

    const send = async (c: FuzzCase) => {
      const url = `${t.url}${c.path}${c.query ? `?${c.query}` : ''}`;
      const headers: Record<string, string> = { ...c.headers };
      if (c.who !== 'anonymous' && !headers.authorization) headers.authorization = `Bearer ${keys[c.who]}`;
      const res = await fetch(url, { method: c.method, headers, body: c.method === 'GET' || c.method === 'DELETE' ? undefined : c.body, redirect: 'manual' });
      return { url, status: res.status, headers: res.headers, text: await res.text() };
    };
    const diff = (a: Record<string, number>, b: Record<string, number>) =>
      Object.keys(b)
        .filter((k) => a[k] !== b[k])
        .map((k) => `${k} ${a[k]} -> ${b[k]}`)
        .join(', ');

    for (const c of cases) {
      covered.add(c.op);
      byPrincipal[c.who] = (byPrincipal[c.who] ?? 0) + 1;
      const before = await counts();
      let res: Awaited<ReturnType<typeof send>>;
      try {
        res = await send(c);
      } catch (err) {
        findings.push({ kind: 'transport', op: c.op, who: c.who, status: 0, detail: String((err as Error).message), request: { method: c.method, url: c.path } });
        continue;
      }
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      let changed: string | null = null;
      if (res.status >= 400 && res.status < 500) {
        changed = diff(before, await counts()) || null;
        // a timer (auction close, sweep, upgrade runner) may have written in between: a rejected request is replayed
        // twice (rejections write nothing, so replays are safe) and counts as a finding only if every replay writes too
        for (let i = 0; changed && i < 2; i++) {
          const b2 = await counts();
          const again = await send(c);
          changed = again.status >= 400 && again.status < 500 ? diff(b2, await counts()) || null : null;
        }
      }
      findings.push(...checkResponse(c, res.url, res, secrets, changed));
    }

    const report: FuzzReport = {
      suite: 'openapi-fuzz',
      db,
      seed: SEED,
      cases: cases.length,
      operations: ops.length,
      operationsCovered: covered.size,
      durationMs: Date.now() - started,
      byStatus,
      byPrincipal,
      findings: findings.length,
      findingsByKind: findings.reduce<Record<string, number>>((m, f) => ((m[f.kind] = (m[f.kind] ?? 0) + 1), m), {}),
      samples: findings.slice(0, 10),
    };
    const line = JSON.stringify(report);
    if (process.env.FUZZ_REPORT) writeFileSync(`${process.env.FUZZ_REPORT}.${db}.json`, line + '\n');
    process.stdout.write(`\n${line}\n`);
    expect(covered.size).toBe(ops.length);
    expect(findings).toEqual([]);
  }, 3_600_000);
});
