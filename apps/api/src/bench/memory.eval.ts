/**
 * `pnpm eval:memory`: recall of LoCoMo evidence turns (issue 9, section 5).
 *
 * Reads `../shared/data/locomo/locomo-dev.json` relative to the repository root (override: LOCOMO_PATH; the file is
 * never copied into the repository) and fails with a clear message when it is absent. Boots the real app on a fresh
 * SQLite file, stores every raw dialogue turn of every conversation as a `conversation` entry (source = speaker,
 * createdAt = the session's date + the turn index in seconds, sessionId = `<sample>:session_<n>`, agentId = sample id;
 * `blip_caption`, summaries and observations are not stored), waits for the embedding queue to drain, then asks every
 * question of categories 1-4 scoped to its conversation (filter agentId) in each mode.
 * recall@k = mean over questions of |evidence turns in top k| / |evidence|; hit@k = share of questions with any.
 * The last line printed is one JSON object. Env: LOCOMO_PATH, MEMORY_EMBEDDER (default fallback).
 */
import 'reflect-metadata';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { MemorySearchMode } from '@app/contracts';
import { createApp } from '../app.factory';
import { loadConfig } from '../config/app-config';
import { MemoryService, type StoreMemoryInput } from '../memory/memory.service';

interface Turn {
  speaker: string;
  dia_id: string;
  text: string;
}
interface Qa {
  question: string;
  evidence: string[];
  category: number;
}
interface Sample {
  sample_id: string;
  conversation: Record<string, unknown>;
  qa: Qa[];
}

const KS = [1, 5, 10, 20] as const;
const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** "1:56 pm on 8 May, 2023" -> epoch ms (UTC). */
export function parseLocomoDate(s: string): number {
  const m = /(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})/i.exec(s);
  if (!m) throw new Error(`unparseable LoCoMo date: ${s}`);
  let h = Number(m[1]) % 12;
  if (m[3].toLowerCase() === 'pm') h += 12;
  const month = MONTHS.indexOf(m[5].toLowerCase());
  return Date.UTC(Number(m[6]), month, Number(m[4]), h, Number(m[2]));
}

function repoRoot(): string {
  return resolve(__dirname, '..', '..', '..', '..');
}

async function main(): Promise<void> {
  const path = process.env.LOCOMO_PATH ?? resolve(repoRoot(), '..', 'shared', 'data', 'locomo', 'locomo-dev.json');
  if (!existsSync(path)) {
    console.error(`eval:memory: LoCoMo file not found at ${path} (set LOCOMO_PATH, or put locomo-dev.json in ../shared/data/locomo/)`);
    process.exit(2);
  }
  const data = JSON.parse(readFileSync(path, 'utf8')) as Sample[];
  const dir = mkdtempSync(join(tmpdir(), 'mc-eval-'));
  const config = loadConfig({ SQLITE_PATH: join(dir, 'eval.db'), PORT: 0, HOST: '127.0.0.1', WEB_DIST: '', LOG_LEVEL: 'error', ADMIN_PASSWORD: 'eval-password-1234' });
  delete (config as { DATABASE_URL?: string }).DATABASE_URL;
  delete (config as { REDIS_URL?: string }).REDIS_URL;
  const app = await createApp(config);
  await app.init();
  const memory = app.get(MemoryService);
  const t0 = Date.now();
  const numToDia = new Map<string, string>();
  let turns = 0;
  for (const s of data) {
    const conv = s.conversation;
    for (let n = 1; Array.isArray(conv[`session_${n}`]); n++) {
      const date = parseLocomoDate(String(conv[`session_${n}_date_time`]));
      const inputs: StoreMemoryInput[] = (conv[`session_${n}`] as Turn[]).map((t, i) => ({
        content: t.text,
        type: 'conversation',
        source: t.speaker,
        agentId: s.sample_id,
        sessionId: `${s.sample_id}:session_${n}`,
        createdAt: new Date(date + i * 1000).toISOString(),
        metadata: { dia_id: t.dia_id },
      }));
      const stored = await memory.storeMany(inputs.filter((x) => x.content.trim().length > 0));
      for (const e of stored) numToDia.set(e.id, String(e.metadata.dia_id));
      turns += stored.length;
    }
  }
  const storeMs = Date.now() - t0;
  const t1 = Date.now();
  for (;;) {
    const st = await memory.stats();
    if (st.queueLag === 0) break;
    if (st.embedder.state === 'unavailable') throw new Error(`embedder unavailable: ${st.embedder.lastError}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const embedMs = Date.now() - t1;
  const modes: MemorySearchMode[] = ['lexical', 'vector', 'hybrid'];
  const result: Record<string, Record<string, number>> = {};
  let questions = 0;
  for (const mode of modes) {
    const recall = new Map<number, number>(KS.map((k) => [k, 0]));
    const hit = new Map<number, number>(KS.map((k) => [k, 0]));
    const served = new Map<string, number>();
    let nq = 0;
    for (const s of data) {
      for (const qa of s.qa) {
        if (qa.category < 1 || qa.category > 4 || !Array.isArray(qa.evidence) || qa.evidence.length === 0) continue;
        const ev = new Set(qa.evidence.map(String));
        const res = await memory.search(qa.question, { filters: { agentId: s.sample_id }, limit: 20, mode });
        served.set(res.mode, (served.get(res.mode) ?? 0) + 1);
        const ranked = res.hits.map((h) => numToDia.get(h.entry.id) ?? '');
        for (const k of KS) {
          const top = new Set(ranked.slice(0, k));
          let found = 0;
          for (const e of ev) if (top.has(e)) found++;
          recall.set(k, recall.get(k)! + found / ev.size);
          if (found > 0) hit.set(k, hit.get(k)! + 1);
        }
        nq++;
      }
    }
    questions = nq;
    const r: Record<string, number> = {};
    for (const k of KS) r[`recall@${k}`] = Math.round((recall.get(k)! / nq) * 1000) / 1000;
    for (const k of KS) r[`hit@${k}`] = Math.round((hit.get(k)! / nq) * 1000) / 1000;
    for (const [m, c] of served) r[`served_${m}`] = c;
    result[mode] = r;
  }
  await app.close();
  rmSync(dir, { recursive: true, force: true });
  const summary = {
    eval: 'memory',
    dataset: 'locomo-dev',
    conversations: data.length,
    turns,
    questions,
    categories: [1, 2, 3, 4],
    embedder: memory.embedder.model,
    weights: memory.weights,
    storeMs,
    embedMs,
    modes: result,
    baseline: { bm25: { 'recall@1': 0.294, 'recall@5': 0.512, 'recall@10': 0.582, 'recall@20': 0.645 } },
  };
  for (const m of modes) console.log(`${m.padEnd(8)} ${KS.map((k) => `R@${k} ${result[m][`recall@${k}`].toFixed(3)}`).join('  ')}`);
  console.log(JSON.stringify(summary));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
