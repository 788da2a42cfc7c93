import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { createApp } from '../../src/app.factory';
import { loadConfig, type AppConfig } from '../../src/config/app-config';

export const ADMIN_PASSWORD = 'test-admin-password';

export interface TestApp {
  app: INestApplication;
  url: string;
  config: AppConfig;
  /** An admin API key (Bearer) for driving the API. */
  adminKey: string;
  close(): Promise<void>;
}

/** Which databases the integration suites run against: SQLite always, PostgreSQL when reachable (required on CI). */
export function databaseKinds(): ('sqlite' | 'postgres')[] {
  return process.env.SKIP_POSTGRES === '1' ? ['sqlite'] : ['sqlite', 'postgres'];
}

export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Creates a fresh PostgreSQL database for one test app and returns its URL and a dropper. */
export async function createPgDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `mc_test_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * Boots the real app on a random loopback port with a fresh SQLite file (or PostgreSQL database),
 * logs in nothing, and creates an admin API key. `overrides` are config values (strings or numbers); pass
 * `DATABASE_URL` (or `SQLITE_PATH`) to reuse an existing database, which `close()` then leaves in place.
 */
export async function startTestApp(
  overrides: Partial<Record<keyof AppConfig, unknown>> = {},
  db: 'sqlite' | 'postgres' = 'sqlite',
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'mc-test-'));
  // An explicit DATABASE_URL override reuses that database (e.g. a second instance on the same PostgreSQL):
  // nothing is created here and nothing is dropped on close.
  const pg = db === 'postgres' && !overrides.DATABASE_URL ? await createPgDatabase() : null;
  const config = loadConfig({
    SQLITE_PATH: join(dir, 'test.db'),
    DATABASE_URL: pg?.url ?? '',
    ADMIN_PASSWORD,
    LOG_LEVEL: 'error',
    PORT: 0,
    HOST: '127.0.0.1',
    WEB_DIST: '',
    REDIS_URL: '',
    // the realtime edge limits are off in test apps (suites open and reconnect many sockets from loopback);
    // test/integration/realtime-edge.spec.ts turns them on to test them
    REALTIME_HANDSHAKES_PER_IP: 0,
    REALTIME_MAX_SOCKETS_PER_PRINCIPAL: 0,
    REALTIME_MAX_SOCKETS_PER_IP: 0,
    ...overrides,
  });
  if (!config.DATABASE_URL) delete (config as Partial<AppConfig>).DATABASE_URL;
  if (!config.REDIS_URL) delete (config as Partial<AppConfig>).REDIS_URL;
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const addr = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${addr.port}`;
  const adminKey = await createKeyWithPassword(url, 'admin', ADMIN_PASSWORD, 'admin');
  return {
    app,
    url,
    config,
    adminKey,
    close: async () => {
      await app.close();
      if (pg) await pg.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in with a password through the cookie flow and creates an API key of `role` for that user. */
export async function createKeyWithPassword(url: string, username: string, password: string, role: string): Promise<string> {
  const agent = request.agent(url);
  const login = await agent.post('/api/auth/login').send({ username, password }).expect(200);
  const csrf = login.body.csrfToken as string;
  const res = await agent.post('/api/api-keys').set('x-csrf-token', csrf).send({ label: `test-${role}`, role }).expect(201);
  return res.body.key as string;
}

/**
 * Creates a user of `role` and returns an API key bound to it: an operator creates its own (cookie login); a viewer,
 * who is read-only and may not create keys, gets one from the admin (`userId`).
 */
export async function createUserKey(t: TestApp, role: 'operator' | 'viewer', username = `${role}${Date.now()}`): Promise<string> {
  const password = 'a-long-test-password';
  const user = await request(t.url).post('/api/users').set('authorization', `Bearer ${t.adminKey}`).send({ username, password, role }).expect(201);
  if (role === 'operator') return createKeyWithPassword(t.url, username, password, role);
  const res = await request(t.url)
    .post('/api/api-keys')
    .set('authorization', `Bearer ${t.adminKey}`)
    .send({ label: `test-${role}`, role, userId: user.body.id })
    .expect(201);
  return res.body.key as string;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, timeoutMs = 10_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`waitFor timed out${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
