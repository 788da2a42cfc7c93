import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { PASSWORD_MIN_LENGTH } from '@app/contracts';
import { ensureBuilt, freePort, startServer, stop, type Server } from '../support/server-process';
import { writeProvidersYaml } from '../support/fakes/router-config';
import { startTestApp, waitFor } from '../support/test-app';

/**
 * Issue 12 item 3, first use: the built server (`node dist/main.js`) ends its start with one banner (URL, Swagger,
 * user, generated password), keeps Nest's ~90 route-mapping lines out of the default log, warns when the configured
 * Ollama does not answer; one password rule (PASSWORD_MIN_LENGTH) for ADMIN_PASSWORD and the users API.
 */
describe('first start: banner, quiet boot, Ollama warning, one password rule', () => {
  let server: Server | null = null;
  beforeAll(() => ensureBuilt(), 120_000);
  afterEach(async () => {
    if (server) await stop(server);
    server = null;
  });

  it('prints one banner with the generated password, no route mapping lines, and an Ollama warning naming the URL', async () => {
    const deadPort = await freePort(); // nothing listens there: connection refused
    const providers = writeProvidersYaml({
      cascade: { health_check: { interval_ms: 0, timeout_ms: 500 } },
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: `http://127.0.0.1:${deadPort}`, models: [{ name: 'llama3.2', default: true }] }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'mc-banner-'));
    server = await startServer({ SQLITE_PATH: join(dir, 'mc.db'), LOG_LEVEL: 'log', ADMIN_PASSWORD: '', LLM_PROVIDERS_PATH: providers });
    const s = server;
    const out = (await waitFor(async () => (s.output().includes('Mission Control is up') && s.output().trimEnd().endsWith('-'.repeat(72)) ? s.output() : null), 15_000)) as string;
    expect(out).not.toMatch(/Mapped \{/); // RouterExplorer lines are debug now
    expect(out).not.toMatch(/RoutesResolver|InstanceLoader/);
    const banner = out.slice(out.lastIndexOf('Mission Control is up'));
    expect(banner).toContain(`Dashboard   ${s.url}/`);
    expect(banner).toContain(`Swagger     ${s.url}/api/docs`);
    expect(banner).toContain('User        admin');
    const password = /Password {4}(\S+) {3}\(generated/.exec(banner)?.[1];
    expect(password).toBeDefined();
    expect(out.split(password!).length - 1).toBe(1); // printed once, in the banner
    expect(banner).toMatch(new RegExp(`WARNING +Ollama provider ollama-local does not answer: connection_refused.*nothing answers at http://127\\.0\\.0\\.1:${deadPort}`));
    await request(s.url).post('/api/auth/login').send({ username: 'admin', password }).expect(200);
  }, 60_000);

  it(`ADMIN_PASSWORD shorter than ${PASSWORD_MIN_LENGTH} characters is refused at start, naming the variable`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-banner-'));
    const err = (await startServer({ SQLITE_PATH: join(dir, 'mc.db'), ADMIN_PASSWORD: 'x'.repeat(PASSWORD_MIN_LENGTH - 1) }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/exited with 1/);
    expect(err.message).toContain('ADMIN_PASSWORD');
  }, 60_000);

  it('the users API applies the same minimum', async () => {
    const t = await startTestApp({}, 'sqlite');
    try {
      const auth = { authorization: `Bearer ${t.adminKey}` };
      const short = await request(t.url).post('/api/users').set(auth).send({ username: 'ops1', password: 'x'.repeat(PASSWORD_MIN_LENGTH - 1), role: 'operator' }).expect(400);
      expect(JSON.stringify(short.body)).toContain('password');
      await request(t.url).post('/api/users').set(auth).send({ username: 'ops2', password: 'x'.repeat(PASSWORD_MIN_LENGTH), role: 'operator' }).expect(201);
    } finally {
      await t.close();
    }
  });
});
