/**
 * `pnpm bench:ledger` (issue 8 section 5). Four phases, each on a fresh SQLite file (BENCH_LEDGER_PHASES, default
 * `transfers,balance,export,payments`, picks some):
 *
 * 1. **transfers**: two-phase transfers per second through the service path, in process: each one is a task payout
 *    hold (`LedgerService.holdTaskPayoutInTx`, treasury -> agent, pending, `hold.created`) in one unit of work and
 *    its post (`postTaskPayoutInTx`, `hold.posted`) in a second unit, both through the event log's group commit, as
 *    swarm runs them at assignment and completion. BENCH_LEDGER_TRANSFERS (default 50,000) of them, at most
 *    BENCH_LEDGER_INFLIGHT (default 1,000) at once over 100 agents. Invariants are checked afterwards (sum of all
 *    balances 0, maintained totals = sums of transfers, every hold posted once).
 * 2. **balance**: the same file topped up to BENCH_LEDGER_SEED transfers (default 1,000,000; bulk-inserted with their
 *    totals) and BENCH_LEDGER_READS (default 5,000) reads of an agent's balance (`LedgerService.account`) and 500 of
 *    `LedgerService.balances()` (node by ADR-018's formula, treasury, fees, every agent): p50 / p99 ms.
 * 3. **export**: BENCH_LEDGER_EXPORT_ROWS transactions (default 1,000,000, bulk-inserted) served by the built product
 *    as a child process (`node dist/main.js`): `GET /api/ledger/balances` p50 / p99 (20 calls), then
 *    `GET /api/ledger/export` (CSV, the whole range) read to the end: seconds, rows, MB, and the server's RSS growth
 *    (VmRSS and RssAnon, sampled every 50 ms, above its level just before).
 * 4. **payments**: payments per second against the fake LND (HTTPS, `src/bench/support/fake-lnd.ts`, in this process)
 *    through a child server with LIGHTNING_BACKEND=lnd: BENCH_LEDGER_PAYMENTS (default 5,000) remote invoices paid by
 *    `POST /api/ledger/payments`, BENCH_LEDGER_CONCURRENCY (default 50) at once; then every 10th invoice is paid again
 *    (a fresh idempotency key: 409 expected). Double payments = hashes LND was asked to send more than once, or
 *    ledger rows paid twice.
 *
 * Targets (issue 8): >= 10,000 two-phase transfers/s, balance p50 <= 1 ms at 1,000,000 transfers, export of
 * 1,000,000 rows <= 15 s with RSS growth <= 100 MB, >= 500 payments/s with 0 double payments.
 * BENCH_LEDGER_NODE_ARGS (space-separated) go to the child servers' node, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`.
 * Human-readable lines first; the last line printed is one JSON object with every figure.
 */
import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { INestApplication } from '@nestjs/common';
import { Pool } from 'undici';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { Accounting, NODE_ACCOUNT, TREASURY_ACCOUNT, agentAccountId } from '../ledger/accounting';
import { encodeBolt11 } from '../ledger/bolt11.util';
import { LedgerService } from '../ledger/ledger.service';
import { FakeLnd } from './support/fake-lnd';
import { adminKey, BENCH_ADMIN_PASSWORD, processRssMb, sleep, startInstance, stopInstance, type Instance } from './support/instance';

const env = process.env;
const PHASES = new Set((env.BENCH_LEDGER_PHASES ?? 'transfers,balance,export,payments').split(',').map((s) => s.trim()));
const TRANSFERS = Number(env.BENCH_LEDGER_TRANSFERS ?? 50_000);
const INFLIGHT = Number(env.BENCH_LEDGER_INFLIGHT ?? 1_000);
const SEED = Number(env.BENCH_LEDGER_SEED ?? 1_000_000);
const READS = Number(env.BENCH_LEDGER_READS ?? 5_000);
const EXPORT_ROWS = Number(env.BENCH_LEDGER_EXPORT_ROWS ?? 1_000_000);
const PAYMENTS = Number(env.BENCH_LEDGER_PAYMENTS ?? 5_000);
const CONCURRENCY = Number(env.BENCH_LEDGER_CONCURRENCY ?? 50);
const AGENTS = 100;
const NODE_ARGS = (env.BENCH_LEDGER_NODE_ARGS ?? '').split(' ').filter(Boolean);

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return round(s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN, 3);
}
const log = (line: string) => process.stdout.write(`${line}\n`);

/** Config of an in-process app on `sqlitePath` (production mode, as users run it; no PostgreSQL, no Redis). */
function inProcessConfig(sqlitePath: string, extra: Record<string, unknown> = {}) {
  const config = loadConfig({
    SQLITE_PATH: sqlitePath,
    PORT: 0,
    HOST: '127.0.0.1',
    WEB_DIST: '',
    LOG_LEVEL: 'error',
    NODE_ENV: 'production',
    ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
    LEDGER_TASK_PAYOUTS: 'on',
    LEDGER_SWEEP_MS: 3_600_000,
    ...extra,
  });
  delete (config as { DATABASE_URL?: string }).DATABASE_URL;
  delete (config as { REDIS_URL?: string }).REDIS_URL;
  return config;
}

/** Env of a child server on `sqlitePath`. */
function serverEnv(sqlitePath: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SQLITE_PATH: sqlitePath,
    DATABASE_URL: '',
    REDIS_URL: '',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    WEB_DIST: '',
    ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
    LEDGER_SWEEP_MS: '3600000',
    ...extra,
  };
}

/** Invariants over the whole ledger, read with plain SQL (independent of the code under test). */
function ledgerInvariants(db: Database.Database): { sumOfBalancesMsat: number; totalsMismatches: number; negativeFlagged: number } {
  const sum = db.prepare('SELECT COALESCE(SUM("creditsPosted" - "debitsPosted"), 0) AS s FROM ledger_accounts').get() as { s: number };
  // maintained totals against the transfers: single/post add to posted; pending adds to pending until resolved
  const mismatches = db
    .prepare(
      `WITH t AS (
         SELECT x.*, (SELECT r.kind FROM ledger_transfers r WHERE r."pendingId" = x.id) AS resolved FROM ledger_transfers x
       ), sides AS (
         SELECT "debitAccountId" AS a, CASE WHEN kind IN ('single','post') THEN "amountMsat" ELSE 0 END AS dpo, 0 AS cpo,
                CASE WHEN kind = 'pending' AND resolved IS NULL THEN "amountMsat" ELSE 0 END AS dpe, 0 AS cpe FROM t
         UNION ALL
         SELECT "creditAccountId", 0, CASE WHEN kind IN ('single','post') THEN "amountMsat" ELSE 0 END,
                0, CASE WHEN kind = 'pending' AND resolved IS NULL THEN "amountMsat" ELSE 0 END FROM t
       ), sums AS (SELECT a, SUM(dpo) dpo, SUM(cpo) cpo, SUM(dpe) dpe, SUM(cpe) cpe FROM sides GROUP BY a)
       SELECT COUNT(*) AS n FROM ledger_accounts acc LEFT JOIN sums s ON s.a = acc.id
       WHERE acc."debitsPosted" <> COALESCE(s.dpo, 0) OR acc."creditsPosted" <> COALESCE(s.cpo, 0)
          OR acc."debitsPending" <> COALESCE(s.dpe, 0) OR acc."creditsPending" <> COALESCE(s.cpe, 0)`,
    )
    .get() as { n: number };
  const neg = db
    .prepare('SELECT COUNT(*) AS n FROM ledger_accounts WHERE "noNegative" AND "creditsPosted" - "debitsPosted" - "debitsPending" < 0')
    .get() as { n: number };
  return { sumOfBalancesMsat: Number(sum.s), totalsMismatches: mismatches.n, negativeFlagged: neg.n };
}

/** Bulk-inserts `n` single transfers treasury -> agent (spread over AGENTS agents) and adds them to the totals. */
function seedTransfers(db: Database.Database, n: number): void {
  const ins = db.prepare(
    'INSERT INTO ledger_transfers (id, kind, "debitAccountId", "creditAccountId", "amountMsat", "pendingId", "timeoutAt", purpose, ref, "idempotencyKey", "createdAt") VALUES (?, \'single\', ?, ?, ?, NULL, NULL, \'bench_seed\', NULL, NULL, ?)',
  );
  const bump = db.prepare('UPDATE ledger_accounts SET "debitsPosted" = "debitsPosted" + ?, "creditsPosted" = "creditsPosted" + ? WHERE id = ?');
  const CHUNK = 50_000;
  for (let done = 0; done < n; ) {
    const k = Math.min(CHUNK, n - done);
    db.transaction(() => {
      const credited = new Map<string, number>();
      let debited = 0;
      const at = new Date().toISOString();
      for (let i = 0; i < k; i++) {
        const acct = agentAccountId(`agent-${(done + i) % AGENTS}`);
        const amount = 1000 + ((done + i) % 997);
        ins.run(randomUUID(), TREASURY_ACCOUNT, acct, amount, at);
        credited.set(acct, (credited.get(acct) ?? 0) + amount);
        debited += amount;
      }
      bump.run(debited, 0, TREASURY_ACCOUNT);
      for (const [a, c] of credited) bump.run(0, c, a);
    })();
    done += k;
  }
}

async function phaseTransfers(dir: string, out: Record<string, unknown>): Promise<void> {
  const path = join(dir, 'transfers.db');
  const app: INestApplication = await createApp(inProcessConfig(path));
  await app.init();
  const ledger = app.get(LedgerService);
  const writer = app.get(EventLogWriter);
  try {
    if (PHASES.has('transfers')) {
      // the treasury is funded once from the node (what settled invoices do)
      await writer.write((tx) => new Accounting(tx.manager).transfer({ kind: 'single', debitAccountId: NODE_ACCOUNT, creditAccountId: TREASURY_ACCOUNT, amountMsat: 1e15, purpose: 'bench_seed' }));
      // warm-up: the agents' accounts exist and the statements are compiled
      for (let a = 0; a < AGENTS; a++) {
        await writer.write((tx) => ledger.holdTaskPayoutInTx(tx, { taskId: `warm-${a}`, agentId: `agent-${a}`, bidSats: 1 }));
        await writer.write((tx) => ledger.postTaskPayoutInTx(tx, `warm-${a}`));
      }
      let next = 0;
      let failed = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const worker = async () => {
        while (next < TRANSFERS) {
          const i = next++;
          const taskId = `bench-${i}`;
          try {
            const held = await writer.write((tx) => ledger.holdTaskPayoutInTx(tx, { taskId, agentId: `agent-${i % AGENTS}`, bidSats: 1 + (i % 100) }));
            if (!held.ok) throw new Error(held.reason);
            await writer.write((tx) => ledger.postTaskPayoutInTx(tx, taskId));
          } catch (err) {
            if (failed++ === 0) log(`transfer ${i} failed: ${(err as Error).message}`);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(INFLIGHT, TRANSFERS) }, worker));
      const s = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      // CPU time of this process per two-phase transfer (us): steadier than wall time on a shared machine
      const cpuUs = round((cpu.user + cpu.system) / TRANSFERS, 1);
      const db = new Database(path, { readonly: true });
      const inv = ledgerInvariants(db);
      const counts = db.prepare("SELECT SUM(kind = 'pending') AS pending, SUM(kind = 'post') AS posts FROM ledger_transfers WHERE ref LIKE 'bench-%'").get() as { pending: number; posts: number };
      db.close();
      const perS = Math.round(TRANSFERS / s);
      log(`transfers: ${TRANSFERS} two-phase (hold + post, ${counts.pending} pending + ${counts.posts} posts) in ${round(s)} s = ${perS}/s (${perS * 2} transfer rows/s, ${perS * 2} events/s), ${failed} failed, in flight ${INFLIGHT}; CPU ${cpuUs} us per two-phase transfer`);
      log(`  invariants: sum of balances ${inv.sumOfBalancesMsat} msat, totals mismatches ${inv.totalsMismatches}, negative flagged ${inv.negativeFlagged}`);
      out.transfers = { twoPhase: TRANSFERS, seconds: round(s), twoPhasePerS: perS, transferRowsPerS: perS * 2, cpuUsPerTwoPhase: cpuUs, failed, inFlight: INFLIGHT, ...counts, ...inv, target: '>= 10000/s' };
    }
    if (PHASES.has('balance')) {
      const db = new Database(path);
      const have = (db.prepare('SELECT COUNT(*) AS n FROM ledger_transfers').get() as { n: number }).n;
      const s0 = performance.now();
      // the agents' accounts exist even when phase 1 did not run
      if (!PHASES.has('transfers')) {
        await writer.write(async (tx) => {
          for (let a = 0; a < AGENTS; a++) await new Accounting(tx.manager).ensureAgentAccount(`agent-${a}`);
        });
      }
      if (SEED > have) seedTransfers(db, SEED - have);
      const total = (db.prepare('SELECT COUNT(*) AS n FROM ledger_transfers').get() as { n: number }).n;
      const inv = ledgerInvariants(db);
      db.close();
      log(`balance: seeded ${total - have} transfers in ${round((performance.now() - s0) / 1000)} s (${total} in all); invariants: sum ${inv.sumOfBalancesMsat}, mismatches ${inv.totalsMismatches}`);
      const one: number[] = [];
      for (let i = 0; i < READS; i++) {
        const t = performance.now();
        await ledger.account(agentAccountId(`agent-${i % AGENTS}`));
        one.push(performance.now() - t);
      }
      const all: number[] = [];
      for (let i = 0; i < 500; i++) {
        const t = performance.now();
        await ledger.balances();
        all.push(performance.now() - t);
      }
      log(`  account balance (LedgerService.account): p50 ${pct(one, 0.5)} ms, p99 ${pct(one, 0.99)} ms over ${READS} reads at ${total} transfers`);
      log(`  balances() (node formula + treasury + fees + ${AGENTS} agents): p50 ${pct(all, 0.5)} ms, p99 ${pct(all, 0.99)} ms`);
      out.balance = { transfers: total, accountP50Ms: pct(one, 0.5), accountP99Ms: pct(one, 0.99), balancesP50Ms: pct(all, 0.5), balancesP99Ms: pct(all, 0.99), ...inv, target: 'account p50 <= 1 ms' };
    }
  } finally {
    await app.close();
  }
}

/** Bulk-inserts `n` settled incoming transactions (the treasury's), oldest first over the last 30 days. */
function seedTransactions(db: Database.Database, n: number): void {
  const bolt11 = encodeBolt11({
    network: 'regtest',
    privateKeyHex: randomBytes(32).toString('hex'),
    paymentHash: randomBytes(32).toString('hex'),
    paymentSecret: randomBytes(32).toString('hex'),
    amountMsat: 21_000,
    description: 'bench invoice',
    expirySeconds: 3600,
  });
  const ins = db.prepare(
    `INSERT INTO ledger_transactions (id, type, status, "paymentHash", bolt11, preimage, "amountMsat", "feeMsat", "maxFeeMsat", memo, "accountId",
       "taskId", "agentId", "holdTransferId", "expiresAt", "failureReason", "idempotencyKey", "createdAt", "settledAt", "updatedAt")
     VALUES (?, 'incoming', 'settled', ?, ?, ?, ?, 0, 0, ?, ?, NULL, NULL, NULL, ?, NULL, NULL, ?, ?, ?)`,
  );
  const start = Date.now() - 30 * 86_400_000;
  const step = (30 * 86_400_000) / n;
  const CHUNK = 50_000;
  for (let done = 0; done < n; ) {
    const k = Math.min(CHUNK, n - done);
    db.transaction(() => {
      for (let i = done; i < done + k; i++) {
        const at = new Date(start + i * step).toISOString();
        const preimage = randomBytes(32);
        ins.run(randomUUID(), randomBytes(32).toString('hex'), bolt11, preimage.toString('hex'), 1000 + (i % 100_000), `bench payment ${i}`, TREASURY_ACCOUNT, new Date(start + i * step + 3_600_000).toISOString(), at, at, at);
      }
    })();
    done += k;
  }
}

async function phaseExport(dir: string, out: Record<string, unknown>): Promise<void> {
  const path = join(dir, 'export.db');
  // migrations by one boot, then the rows straight into the file
  const app = await createApp(inProcessConfig(path));
  await app.init();
  await app.close();
  const s0 = performance.now();
  const db = new Database(path);
  seedTransactions(db, EXPORT_ROWS);
  db.close();
  log(`export: seeded ${EXPORT_ROWS} transactions in ${round((performance.now() - s0) / 1000)} s`);
  let inst: Instance | null = null;
  try {
    inst = await startInstance(serverEnv(path), { nodeArgs: NODE_ARGS });
    const key = await adminKey(inst.url);
    const auth = { authorization: `Bearer ${key}` };
    const bal: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await fetch(`${inst.url}/api/ledger/balances`, { headers: auth });
      if (r.status !== 200) throw new Error(`balances: ${r.status} ${await r.text()}`);
      await r.arrayBuffer();
      bal.push(performance.now() - t);
    }
    log(`  GET /api/ledger/balances at ${EXPORT_ROWS} transactions: p50 ${pct(bal, 0.5)} ms, p99 ${pct(bal, 0.99)} ms`);
    await sleep(500);
    const pid = inst.proc.pid!;
    const before = processRssMb(pid);
    let peak = before ? { ...before } : null;
    const sampler = setInterval(() => {
      const m = processRssMb(pid);
      if (m && peak) peak = { rss: Math.max(peak.rss, m.rss), anon: Math.max(peak.anon, m.anon) };
    }, 50);
    const t0 = performance.now();
    const from = new Date(Date.now() - 31 * 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const res = await fetch(`${inst.url}/api/ledger/export?format=csv&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`, { headers: auth });
    if (res.status !== 200 || !res.body) throw new Error(`export: ${res.status} ${await res.text()}`);
    let bytes = 0;
    let lines = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
    }
    const s = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    const growth = before && peak ? { rssMb: round(peak.rss - before.rss, 1), anonMb: round(peak.anon - before.anon, 1) } : null;
    log(`  CSV export: ${lines - 1} rows (+ header), ${round(bytes / 1e6, 1)} MB in ${round(s)} s = ${Math.round((lines - 1) / s)} rows/s; server RSS growth ${growth ? `${growth.anonMb} MB anon, ${growth.rssMb} MB VmRSS (mmap'd file pages included)` : 'n/a'}`);
    out.export = {
      rows: lines - 1,
      mb: round(bytes / 1e6, 1),
      seconds: round(s),
      rowsPerS: Math.round((lines - 1) / s),
      rssGrowthAnonMb: growth?.anonMb ?? null,
      rssGrowthVmRssMb: growth?.rssMb ?? null,
      rssBeforeMb: before,
      balancesP50Ms: pct(bal, 0.5),
      balancesP99Ms: pct(bal, 0.99),
      complete: lines - 1 === EXPORT_ROWS,
      target: '<= 15 s, RSS growth <= 100 MB',
    };
  } finally {
    if (inst) await stopInstance(inst);
  }
}

async function phasePayments(dir: string, out: Record<string, unknown>): Promise<void> {
  const path = join(dir, 'payments.db');
  const lnd = new FakeLnd();
  await lnd.start();
  lnd.balanceMsat = 1e15;
  const certPath = join(dir, 'lnd.cert');
  writeFileSync(certPath, lnd.tls.cert);
  let inst: Instance | null = null;
  const pool = { close: async () => undefined } as unknown as Pool;
  let http: Pool = pool;
  try {
    inst = await startInstance(
      serverEnv(path, { LIGHTNING_BACKEND: 'lnd', LND_REST_URL: lnd.url, LND_TLS_CERT_PATH: certPath, LND_MACAROON_HEX: lnd.macaroonHex }),
      { nodeArgs: NODE_ARGS },
    );
    const key = await adminKey(inst.url);
    http = new Pool(inst.url, { connections: CONCURRENCY, pipelining: 1 });
    const call = async (method: 'GET' | 'POST', p: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
      const r = await http.request({
        method,
        path: p,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.body.text();
      return { status: r.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    };
    // fund the treasury through a real settle: an invoice on the node, paid from outside, seen on the stream
    const inv = await call('POST', '/api/ledger/invoices', { amountMsat: 900_000_000_000, memo: 'bench funding' });
    if (inv.status !== 201) throw new Error(`invoice: ${inv.status} ${JSON.stringify(inv.json)}`);
    lnd.settle(inv.json.paymentHash as string);
    for (let i = 0; ; i++) {
      const b = await call('GET', '/api/ledger/balances');
      if (((b.json.treasury as { availableMsat: number } | undefined)?.availableMsat ?? 0) >= 900_000_000_000) break;
      if (i > 200) throw new Error('the funding invoice never settled');
      await sleep(50);
    }
    const invoices = Array.from({ length: PAYMENTS }, (_, i) => lnd.remoteInvoice(10_000 + (i % 1000), { outcome: 'SUCCEEDED', feeMsat: 1 + (i % 50) }));
    const statuses = new Map<string, number>();
    const lat: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < invoices.length) {
          const i = next++;
          const t = performance.now();
          const r = await call('POST', '/api/ledger/payments', { bolt11: invoices[i].bolt11, maxFeeMsat: 100, idempotencyKey: `bench-pay-${i}` });
          lat.push(performance.now() - t);
          const k = `${r.status} ${String(r.json.status ?? r.json.code ?? '')}`;
          statuses.set(k, (statuses.get(k) ?? 0) + 1);
        }
      }),
    );
    const s = (performance.now() - t0) / 1000;
    // every 10th again with a fresh key: each must be refused (409 already_paid) and never reach the node
    const again = invoices.filter((_, i) => i % 10 === 0);
    const againStatuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, w) => {
        for (let i = w; i < again.length; i += CONCURRENCY) {
          const r = await call('POST', '/api/ledger/payments', { bolt11: again[i].bolt11, maxFeeMsat: 100, idempotencyKey: `bench-again-${i}` });
          againStatuses.set(r.status, (againStatuses.get(r.status) ?? 0) + 1);
        }
      }),
    );
    const sentTwice = [...lnd.sendCalls.values()].filter((n) => n > 1).length;
    const db = new Database(path, { readonly: true });
    const rows = db.prepare("SELECT status, COUNT(*) AS n FROM ledger_transactions WHERE type = 'outgoing' GROUP BY status").all() as { status: string; n: number }[];
    const dupRows = (db.prepare("SELECT COUNT(*) AS n FROM (SELECT \"paymentHash\" FROM ledger_transactions WHERE type = 'outgoing' GROUP BY \"paymentHash\" HAVING COUNT(*) > 1)").get() as { n: number }).n;
    const inv2 = ledgerInvariants(db);
    db.close();
    const perS = Math.round(PAYMENTS / s);
    log(`payments: ${PAYMENTS} in ${round(s)} s = ${perS}/s at ${CONCURRENCY} concurrent; latency p50 ${pct(lat, 0.5)} ms, p99 ${pct(lat, 0.99)} ms`);
    log(`  answers ${JSON.stringify(Object.fromEntries(statuses))}; ledger rows ${JSON.stringify(Object.fromEntries(rows.map((r) => [r.status, r.n])))}`);
    log(`  paid again: ${again.length} -> ${JSON.stringify(Object.fromEntries(againStatuses))}; hashes sent to LND more than once: ${sentTwice}; duplicate ledger rows: ${dupRows}`);
    log(`  invariants: sum ${inv2.sumOfBalancesMsat}, mismatches ${inv2.totalsMismatches}, negative flagged ${inv2.negativeFlagged}`);
    out.payments = {
      payments: PAYMENTS,
      concurrency: CONCURRENCY,
      seconds: round(s),
      perS,
      p50Ms: pct(lat, 0.5),
      p99Ms: pct(lat, 0.99),
      answers: Object.fromEntries(statuses),
      ledgerRows: Object.fromEntries(rows.map((r) => [r.status, r.n])),
      paidAgain: Object.fromEntries(againStatuses),
      doublePayments: sentTwice + dupRows,
      ...inv2,
      target: '>= 500/s, 0 double payments',
    };
  } catch (err) {
    if (inst) log(inst.output().slice(-4000));
    throw err;
  } finally {
    await http.close();
    if (inst) await stopInstance(inst);
    await lnd.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mc-bench-ledger-'));
  const out: Record<string, unknown> = { bench: 'ledger', node: process.version, startedAt: new Date().toISOString() };
  try {
    if (PHASES.has('transfers') || PHASES.has('balance')) await phaseTransfers(dir, out);
    if (PHASES.has('export')) await phaseExport(dir, out);
    if (PHASES.has('payments')) await phasePayments(dir, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:ledger failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
