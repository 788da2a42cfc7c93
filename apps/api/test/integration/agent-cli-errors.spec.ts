import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { startTestApp, type TestApp } from '../support/test-app';

/** The built CLI (libs/agent-sdk/dist/cli.js); build the SDK before running this suite. */
const CLI = resolve(__dirname, '../../../../libs/agent-sdk/dist/cli.js');
const run = promisify(execFile);

/** Runs the CLI to its end and returns its exit code and output (both streams). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, MC_URL: '', MC_API_KEY: '', ...env }, timeout: 30_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * Issue 12: the enrol command's failures name the URL the CLI tried and never echo the secret key (a closed port,
 * a wrong key, a key passed where it does not belong).
 */
describe('agent CLI errors name the URL, never the key', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t?.close());

  const SECRET = 'mck_thisIsNotARealKeyButLooksLikeOne0123456789';

  it('a closed port: the URL it tried, ECONNREFUSED, no key (flag and env)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await cli(['--url', url, '--key', SECRET, '--name', 'closed-port', '--bid', '5', '--exec', 'true']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`cannot get an agent key from ${url}`);
    expect(r.out).toContain(`GET ${url}/api/auth/me failed: ECONNREFUSED`);
    expect(r.out).not.toContain(SECRET);
    const viaEnv = await cli(['--bid', '5', '--exec', 'true', '--name', 'x'], { MC_URL: url, MC_API_KEY: SECRET });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.out).toContain(url);
    expect(viaEnv.out).not.toContain(SECRET);
  });

  it('credentials in --url are refused without being printed', async () => {
    const port = await closedPort();
    const r = await cli(['--url', `http://user:hunter2secret@127.0.0.1:${port}`, '--key', SECRET, '--name', 'x', '--bid', '5', '--exec', 'true']);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`--url must not contain credentials (user:password@): use --key or MC_API_KEY; got http://127.0.0.1:${port}`);
    expect(r.out).not.toContain('hunter2secret');
    expect(r.out).not.toContain(SECRET);
  });

  it('a wrong key against the real server: 401 with the URL, no key', async () => {
    const r = await cli(['--url', t.url, '--key', SECRET, '--name', 'bad-key', '--bid', '5', '--exec', 'true']);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`cannot get an agent key from ${t.url}`);
    expect(r.out).toMatch(/auth\/invalid_token \(401\)/);
    expect(r.out).not.toContain(SECRET);
    // the server did not enrol anything
    const agents = await request(t.url).get('/api/agents').set('authorization', `Bearer ${t.adminKey}`).expect(200);
    expect(agents.body.items.map((a: { name: string }) => a.name)).not.toContain('bad-key');
  });

  it('a key typed where an argument does not belong is not echoed by the usage error', async () => {
    const r = await cli(['--url', t.url, SECRET, '--bid', '5', '--exec', 'true']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^error: /);
    expect(r.out).not.toContain(SECRET);
  });
});
