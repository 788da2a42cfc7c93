import { eventLog, type TestEventLog } from '../support/event-log';
import { Collector, connectLive, subscribe, type LiveSocket } from '../support/live-client';
import { describeWithRedis, TEST_REDIS_URL } from '../support/services';
import { createPgDatabase, startTestApp, waitFor, type TestApp } from '../support/test-app';

/**
 * Issue 11 section 1, "order across instances": three API instances on one PostgreSQL and Redis. Every subscriber on
 * every instance receives each event exactly once and in seq order (no client-side de-duplication here: the raw
 * stream is compared), live and after a replay that races a writer on another instance.
 */
describeWithRedis('realtime order across three instances (PostgreSQL + Redis)', () => {
  let pg: { url: string; drop(): Promise<void> };
  const apps: TestApp[] = [];
  const logs: TestEventLog[] = [];
  const sockets: LiveSocket[] = [];

  beforeAll(async () => {
    pg = await createPgDatabase();
    for (let i = 0; i < 3; i++) {
      const t = await startTestApp({ DATABASE_URL: pg.url, REDIS_URL: TEST_REDIS_URL });
      apps.push(t);
      logs.push(eventLog(t.app));
    }
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const t of apps.reverse()) await t.close();
    await pg?.drop();
  });

  /** Every seq of the `system` channel in (after, head], from the shared log. */
  const systemSeqs = async (after: number): Promise<number[]> => {
    const out: number[] = [];
    for await (const e of logs[0].iterate({ channels: ['system'], after }, 1000)) out.push(e.seq);
    return out;
  };

  /** Appends `n` system.info events, one per call with `inFlight` calls at once, spread over the instances in turn. */
  const writeSpread = async (n: number, inFlight: number, via: TestEventLog[], tag: string): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < n) {
          const i = next++;
          await via[i % via.length].append([{ type: 'system.info', source: 'order', data: { tag, i } }]);
        }
      }),
    );
  };

  it('live: 9 subscribers (3 per instance) get every event once, in seq order, while all three instances write', async () => {
    const collectors: Collector[] = [];
    for (const t of apps) {
      for (let k = 0; k < 3; k++) {
        const s = await connectLive(t.url, t.adminKey);
        sockets.push(s);
        collectors.push(new Collector().attach(s));
        expect(await subscribe(s, 'system')).toMatchObject({ ok: true });
      }
    }
    const from = await logs[0].getHeadSeq();
    await writeSpread(3000, 48, logs, 'live');
    const expected = await systemSeqs(from);
    expect(expected.length).toBeGreaterThanOrEqual(3000);
    await waitFor(() => collectors.every((c) => c.seqs('system').length >= expected.length), 30_000);
    for (const c of collectors) expect(c.seqs('system')).toEqual(expected);
  });

  it('replay on one instance while another writes: exactly once, in order, nothing lost at the seam', async () => {
    await writeSpread(3000, 32, [logs[0]], 'before');
    for (let attempt = 0; attempt < 3; attempt++) {
      const head = await logs[0].getHeadSeq();
      const since = head - 2500;
      let stop = false;
      const writer = (async () => {
        let i = 0;
        while (!stop) await logs[0].append([{ type: 'system.info', source: 'order', data: { tag: 'during', attempt, i: i++ } }]);
      })();
      await new Promise((r) => setTimeout(r, 50));
      const s = await connectLive(apps[1].url, apps[1].adminKey);
      sockets.push(s);
      const c = new Collector().attach(s);
      const ack = await subscribe(s, 'system', since, logs[0].epoch);
      expect(ack).toMatchObject({ ok: true, gap: false });
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await writer;
      const expected = await systemSeqs(since);
      await waitFor(() => c.seqs('system').length >= expected.length, 30_000);
      expect(c.seqs('system')).toEqual(expected);
      s.close();
    }
  });
});
