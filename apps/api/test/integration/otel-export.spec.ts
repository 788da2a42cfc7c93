import type { NestContainer } from '@nestjs/core';
import { OTEL_TRACES_CONSUMER } from '../../src/telemetry/otel-task-traces.service';
import { TelemetryModule } from '../../src/telemetry/telemetry.module';
import { EventConsumersService } from '../../src/event-log/consumers/event-consumers.service';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { startFakeOtlpReceiver, type FakeOtlpReceiver, type ReceivedSpan } from '../support/fakes/fake-otlp-receiver';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { ensureBuilt, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, startTestApp, waitFor } from '../support/test-app';

/** Authenticated calls against a server by URL. */
function as(t: { url: string }, key: string) {
  return {
    get: (path: string) => request(t.url).get(path).set('authorization', `Bearer ${key}`),
    post: (path: string, body: object = {}) => request(t.url).post(path).set('authorization', `Bearer ${key}`).send(body),
  };
}

/** Enrolls and joins an external agent. */
async function enrollAgent(t: { url: string; adminKey: string }, name: string): Promise<{ id: string; key: string }> {
  const res = await as(t, t.adminKey).post('/api/agents', { name }).expect(201);
  await as(t, res.body.key).post('/api/agents/me/join', {}).expect(200);
  return { id: res.body.agent.id, key: res.body.key };
}

const INTERNAL = 1;
const CLIENT = 3;
const STATUS_ERROR = 2;

/**
 * Issue 12: with OTEL_EXPORTER_OTLP_ENDPOINT set, a finished task's trace goes to an OTLP/HTTP collector as
 * OpenTelemetry GenAI spans (invoke_agent > chat / execute_tool), through the official JS SDK, for real task runs;
 * unset, nothing is loaded or exported. The collector is a loopback fake that decodes the export requests.
 */
describe('OpenTelemetry GenAI export of task traces', () => {
  let ollama: FakeLlmServer;
  let otlp: FakeOtlpReceiver;
  let providers: string;

  beforeAll(async () => {
    ollama = await startFake('ollama', 'ollama-local');
    ollama.reply = 'Fees are low.';
    otlp = await startFakeOtlpReceiver();
    providers = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
  });
  afterAll(async () => {
    await ollama?.stop();
    await otlp?.stop();
  });

  const traceOf = (taskId: string) => otlp.spans().filter((s) => s.traceId === taskId.replace(/-/g, ''));
  const waitTrace = async (taskId: string, n: number): Promise<ReceivedSpan[]> => (await waitFor(() => (traceOf(taskId).length >= n ? traceOf(taskId) : null), 15_000)) ?? [];
  const waitStatus = (t: { url: string; adminKey: string }, id: string, status: string) => waitFor(async () => (await as(t, t.adminKey).get(`/api/tasks/${id}`)).body.status === status, 15_000);

  // The built product in its own process (`node dist/main.js`): the OTLP exporter loads its HTTP transport with a
  // dynamic import(), which jest's module sandbox cannot run; a real process also proves the shipped build exports.
  describe('endpoint set (built server process)', () => {
    let server: Server;
    let t: { url: string; adminKey: string };
    const dir = mkdtempSync(join(tmpdir(), 'mc-otel-'));
    beforeAll(async () => {
      ensureBuilt();
      server = await startServer({
        SQLITE_PATH: join(dir, 'otel.db'),
        SPAWN_PERSONAS: 'echo',
        LLM_PROVIDERS_PATH: providers,
        AUCTION_WINDOW_MS: '400',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_SERVICE_NAME: 'mc-test',
      });
      t = { url: server.url, adminKey: await createKeyWithPassword(server.url, 'admin', ADMIN_PASSWORD, 'admin') };
      await waitFor(async () => (await as(t, t.adminKey).get('/api/agents/persona-echo')).body.status === 'idle', 10_000);
    }, 120_000);
    afterAll(async () => {
      if (server) await stop(server);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a persona task run through the router: invoke_agent with a chat child, GenAI attributes, task id as trace id', async () => {
      const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'research the fee market' }).expect(201)).body as { id: string };
      await waitStatus(t, task.id, 'completed');
      const spans = await waitTrace(task.id, 2);
      expect(spans).toHaveLength(2);
      const root = spans.find((s) => s.parentSpanId === '')!;
      const chat = spans.find((s) => s.parentSpanId !== '')!;
      expect(root).toMatchObject({
        name: 'invoke_agent Echo',
        kind: INTERNAL,
        scope: 'mission-control.task-traces',
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.id': 'persona-echo',
          'gen_ai.agent.name': 'Echo',
          'gen_ai.conversation.id': task.id,
          'gen_ai.provider.name': 'ollama',
          'mission_control.task.status': 'completed',
        },
        status: { code: 0 },
      });
      expect(root.resource['service.name']).toBe('mc-test');
      expect(String(root.attributes['gen_ai.agent.description'])).toMatch(/^Research Analyst: /);
      expect(chat).toMatchObject({
        name: 'chat llama3.2',
        kind: CLIENT,
        parentSpanId: root.spanId,
        traceId: root.traceId,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'ollama',
          'gen_ai.request.model': 'llama3.2',
          'gen_ai.response.model': 'llama3.2',
          'gen_ai.request.max_tokens': 1024,
          'mission_control.llm.provider': 'ollama-local',
          'mission_control.llm.attempts': 1,
        },
      });
      expect(chat.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
      expect(chat.attributes['gen_ai.usage.output_tokens']).toEqual(expect.any(Number));
      // the spans sit on the task's own clock: the call inside the agent's run
      const events = (await as(t, t.adminKey).get(`/api/events?taskId=${task.id}&after=0`).expect(200)).body.items as { type: string; createdAt: string }[];
      const at = (type: string) => Date.parse(events.find((e) => e.type === type)!.createdAt);
      expect(root.startMs).toBe(at('task.started'));
      expect(root.endMs).toBe(at('task.completed'));
      expect(chat.startMs).toBe(at('tool.called'));
      expect(chat.endMs).toBe(at('tool.completed'));
      expect(root.startMs <= chat.startMs && chat.endMs <= root.endMs).toBe(true);
      expect(otlp.requests().every((r) => r.path === '/v1/traces' && r.contentType.includes('application/json'))).toBe(true);
    });

    it('an external agent with its own tool calls: execute_tool children; a failed task and tool are errors', async () => {
      const agent = await enrollAgent(t, 'Otel Ext');
      const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'look it up', agentId: agent.id }).expect(201)).body as { id: string };
      const ext = as(t, agent.key);
      await ext.post(`/api/tasks/${task.id}/start`).expect(200);
      await ext.post('/api/events', { type: 'tool.called', taskId: task.id, data: { name: 'web_search', input: 'fees' } }).expect(201);
      await ext.post('/api/events', { type: 'tool.completed', taskId: task.id, data: { name: 'web_search', durationMs: 5 } }).expect(201);
      await ext.post('/api/events', { type: 'tool.called', taskId: task.id, data: { name: 'fetch_page' } }).expect(201);
      await ext.post('/api/events', { type: 'tool.failed', taskId: task.id, data: { name: 'fetch_page', error: 'HTTP 502 from example.org' } }).expect(201);
      await ext.post(`/api/tasks/${task.id}/fail`, { reason: 'source unavailable' }).expect(200);
      const spans = await waitTrace(task.id, 3);
      expect(spans).toHaveLength(3);
      const root = spans.find((s) => s.parentSpanId === '')!;
      expect(root).toMatchObject({ name: 'invoke_agent Otel Ext', status: { code: STATUS_ERROR, message: 'source unavailable' }, attributes: { 'error.type': 'task_failed', 'mission_control.task.status': 'failed' } });
      const byName = (n: string) => spans.find((s) => s.name === n) as ReceivedSpan;
      expect(byName('execute_tool web_search')).toMatchObject({
        kind: INTERNAL,
        parentSpanId: root.spanId,
        attributes: { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'web_search', 'gen_ai.tool.type': 'function' },
        status: { code: 0 },
      });
      expect(byName('execute_tool web_search').attributes['gen_ai.tool.call.id']).toEqual(expect.any(String));
      expect(byName('execute_tool fetch_page')).toMatchObject({ parentSpanId: root.spanId, status: { code: STATUS_ERROR, message: 'HTTP 502 from example.org' }, attributes: { 'error.type': 'tool_error' } });
    });

    it('a task cancelled in its auction invoked no agent: nothing is exported for it', async () => {
      const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'never mind', auctionWindowMs: 60_000 }).expect(201)).body as { id: string };
      await as(t, t.adminKey).post(`/api/tasks/${task.id}/cancel`, {}).expect(200);
      // a later task's trace arrives, so the cancelled one has been processed by then
      const later = (await as(t, t.adminKey).post('/api/tasks', { description: 'after the cancel', agentId: 'persona-echo' }).expect(201)).body as { id: string };
      await waitStatus(t, later.id, 'completed');
      await waitTrace(later.id, 2);
      expect(traceOf(task.id)).toEqual([]);
    });
  });

  it('endpoint unset: no telemetry module, no consumer, nothing exported', async () => {
    const before = otlp.requests().length;
    const t = await startTestApp({ SPAWN_PERSONAS: 'echo', LLM_PROVIDERS_PATH: providers, OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    try {
      const modules = [...(t.app as unknown as { container: NestContainer }).container.getModules().values()].map((m) => m.metatype);
      expect(modules).not.toContain(TelemetryModule);
      expect(modules.length).toBeGreaterThan(5);
      await waitFor(async () => (await as(t, t.adminKey).get('/api/agents/persona-echo')).body.status === 'idle', 10_000);
      const task = (await as(t, t.adminKey).post('/api/tasks', { description: 'no telemetry', agentId: 'persona-echo' }).expect(201)).body as { id: string };
      await waitStatus(t, task.id, 'completed');
      await new Promise((r) => setTimeout(r, 1500)); // longer than the batch delay of an exporter, were there one
      expect(await t.app.get(EventConsumersService).cursor(OTEL_TRACES_CONSUMER)).toBeNull();
      expect(otlp.requests().length).toBe(before);
    } finally {
      await t.close();
    }
  });

  it('a bad endpoint value is refused at start with a clear message', async () => {
    await expect(startTestApp({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).rejects.toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
  });
});
