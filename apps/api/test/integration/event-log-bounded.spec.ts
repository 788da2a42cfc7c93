import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get, type ClientRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { EventLogReader } from '../../src/event-log/event-log.reader';
import { eventLog } from '../support/event-log';
import { ensureBuilt, startServer, stop, type Server } from '../support/server-process';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/** `data.blob` of `kb` kilobytes (ASCII, so characters = bytes). */
const blob = (kb: number, i: number) => `${i}:`.padEnd(kb * 1024, 'x');

describe.each(databaseKinds())('event pages bounded in bytes (%s)', (db) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, db);
    // 60 events of 100 KB: 6 MB of data, more than one REST page (4 MB) and than one export page (1 MB)
    const log = eventLog(t.app);
    for (let i = 0; i < 60; i += 10) {
      await log.append(Array.from({ length: 10 }, (_, k) => ({ type: 'system.info' as const, source: 'big', data: { message: 'big', blob: blob(100, i + k) } })));
    }
  });
  afterAll(() => t.close());

  it('GET /api/events stops a page at ~4 MB and nextCursor walks every event exactly once', async () => {
    const seen: number[] = [];
    let cursor: number | null = null;
    let pages = 0;
    do {
      const path: string = `/api/events?limit=1000&channel=system${cursor === null ? '' : `&before=${cursor}`}`;
      const res = await request(t.url).get(path).set('authorization', `Bearer ${t.adminKey}`).expect(200);
      pages++;
      expect(Buffer.byteLength(JSON.stringify(res.body))).toBeLessThan(4_500_000);
      seen.push(...(res.body.items as { seq: number; source: string }[]).filter((e) => e.source === 'big').map((e) => e.seq));
      cursor = res.body.nextCursor;
    } while (cursor !== null && pages < 20);
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(seen).toHaveLength(60);
    expect(new Set(seen).size).toBe(60);
  });

  it('the NDJSON export still returns every event, in seq order, across byte-bounded pages', async () => {
    const res = await request(t.url).get('/api/events/export?format=ndjson&channel=system').set('authorization', `Bearer ${t.adminKey}`).buffer(true).parse((r, cb) => {
      let text = '';
      r.on('data', (c: Buffer) => (text += c.toString()));
      r.on('end', () => cb(null, text));
    }).expect(200);
    const seqs = (res.body as string).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; source: string }).filter((e) => e.source === 'big').map((e) => e.seq);
    expect(seqs).toHaveLength(60);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('findBounded always returns at least one row, even one larger than the bound', async () => {
    const page = await t.app.get(EventLogReader).findBounded({ channels: ['system'], after: 0 }, 1000, 10, 'asc');
    expect(page.items.length).toBe(1);
    expect(page.truncated).toBe(true);
  });
});

/** RSS of a process in MB, from /proc (Linux). */
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

describe('slow export readers keep server memory bounded (issue 11 finding 2)', () => {
  let server: Server;
  let dir: string;
  let key: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'mc-bounded-'));
    const sqlite = join(dir, 'bounded.db');
    const t = await startTestApp({ SQLITE_PATH: sqlite });
    key = t.adminKey;
    // 200 events of ~200 KB (40 MB), as in the outside run
    const log = eventLog(t.app);
    for (let i = 0; i < 200; i += 10) {
      await log.append(Array.from({ length: 10 }, (_, k) => ({ type: 'system.info' as const, source: 'big', data: { message: 'big', blob: blob(200, i + k) } })));
    }
    await t.close();
    server = await startServer({ SQLITE_PATH: sqlite });
  }, 120_000);
  afterAll(async () => {
    await stop(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('20 readers that stop reading after the first chunk add well under 400 MB of RSS', async () => {
    const pid = server.proc.pid!;
    const before = rssMb(pid);
    const open: { req: ClientRequest; res?: IncomingMessage; got: number }[] = [];
    await Promise.all(
      Array.from({ length: 20 }, () =>
        new Promise<void>((resolve, reject) => {
          const entry: { req: ClientRequest; res?: IncomingMessage; got: number } = { req: null as unknown as ClientRequest, got: 0 };
          entry.req = get(`${server.url}/api/events/export?format=ndjson`, { headers: { authorization: `Bearer ${key}` } }, (res) => {
            entry.res = res;
            res.once('data', (c: Buffer) => {
              entry.got += c.length;
              res.pause(); // a slow reader: never reads on
              resolve();
            });
          });
          entry.req.on('error', reject);
          open.push(entry);
        }),
      ),
    );
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      peak = Math.max(peak, rssMb(pid));
      await new Promise((r) => setTimeout(r, 100));
    }
    const health = Date.now();
    await fetch(`${server.url}/api/health`);
    const healthMs = Date.now() - health;
    for (const o of open) o.req.destroy();
    expect(open.every((o) => o.got > 0)).toBe(true);
    expect(peak).toBeLessThan(400);
    expect(peak - before).toBeLessThan(200);
    expect(healthMs).toBeLessThan(2000);
  }, 60_000);
});
