import type { EventEnvelope } from '@app/contracts';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type { TestApp } from './test-app';

/** Authenticated supertest calls against a test app. */
export function as(t: TestApp, key: string) {
  const auth = (r: request.Test) => r.set('authorization', `Bearer ${key}`);
  return {
    get: (path: string) => auth(request(t.url).get(path)),
    post: (path: string, body?: unknown) => {
      const r = auth(request(t.url).post(path));
      return body === undefined ? r : r.send(body as object);
    },
    delete: (path: string) => auth(request(t.url).delete(path)),
  };
}

/** Enrolls an external agent (operator key) and, unless `join` is false, joins it. Returns its id and key. */
export async function enrollAgent(t: TestApp, name: string, opts: { join?: boolean; capabilities?: string[] } = {}): Promise<{ id: string; key: string }> {
  const res = await as(t, t.adminKey).post('/api/agents', { name, capabilities: opts.capabilities }).expect(201);
  const id = res.body.agent.id as string;
  const key = res.body.key as string;
  if (opts.join !== false) await as(t, key).post('/api/agents/me/join', {}).expect(200);
  return { id, key };
}

/** Every event of a task, oldest first. */
export async function taskEvents(t: TestApp, taskId: string): Promise<EventEnvelope[]> {
  const res = await as(t, t.adminKey).get(`/api/events?taskId=${taskId}&after=0&limit=1000`).expect(200);
  return res.body.items as EventEnvelope[];
}

/** Events of the given types (comma list), oldest first, optionally for one agent. */
export async function eventsOf(t: TestApp, types: string, agentId?: string): Promise<EventEnvelope[]> {
  const q = `/api/events?type=${types}&after=0&limit=1000${agentId ? `&agentId=${agentId}` : ''}`;
  return (await as(t, t.adminKey).get(q).expect(200)).body.items as EventEnvelope[];
}

/** Row counts of the swarm tables plus the event log's size: compare before/after a refused request. */
export async function swarmCounts(t: TestApp): Promise<Record<string, number>> {
  const ds = t.app.get(DataSource);
  const out: Record<string, number> = {};
  for (const table of ['agents', 'tasks', 'bids', 'agent_messages', 'operator_questions', 'api_keys']) {
    const rows: { n: number | string }[] = await ds.query(`SELECT COUNT(*) AS n FROM ${table}`);
    out[table] = Number(rows[0].n);
  }
  // the LLM router writes its own periodic metrics events (router channel): not something a request wrote
  const events: { n: number | string }[] = await ds.query(`SELECT COUNT(*) AS n FROM event_log WHERE channel <> 'router'`);
  out.event_log = Number(events[0].n);
  return out;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
