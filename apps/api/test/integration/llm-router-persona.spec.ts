import type { IngestibleEventType, PersonaDto, TaskDto } from '@app/contracts';
import request from 'supertest';
import { LlmPersonaExecutor } from '../../src/swarm/personas/llm-persona-executor';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

const persona: PersonaDto = {
  id: 'echo',
  name: 'Echo',
  role: 'Research Analyst',
  description: 'Finds, reads and summarises sources.',
  capabilities: ['research', 'summarization'],
  preferredKeywords: ['research'],
  rateSats: 50,
  baseBidSats: 35,
  jitterSats: 15,
  agentId: 'persona-echo',
} as PersonaDto;

const task = { id: 'task-1', description: 'Summarise the history of Lightning payments' } as TaskDto;

function recorder() {
  const events: { type: IngestibleEventType; data: Record<string, unknown> }[] = [];
  return { events, report: { tool: async (type: IngestibleEventType, data: Record<string, unknown>) => void events.push({ type, data }) } };
}

describe.each(databaseKinds())('LlmPersonaExecutor (%s)', (db) => {
  let ollama: FakeLlmServer;
  let t: TestApp;

  beforeAll(async () => {
    ollama = await startFake('ollama', 'ollama-local');
    const yaml = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [
        { name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] },
        { name: 'openai', type: 'openai', priority: 2, api_key: '${MC_TEST_NO_SUCH_OPENAI_KEY}', models: ['gpt-4o-mini'] },
      ],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, db);
  });

  afterAll(async () => {
    await t?.close();
    await ollama.stop();
  });

  it('runs the task through the router with the persona system prompt and reports the call with provider and latency', async () => {
    ollama.reply = 'Lightning started in 2015 with a white paper.';
    const exec = t.app.get(LlmPersonaExecutor);
    const { events, report } = recorder();
    const r = await exec.execute(persona, task, report);
    expect(r.result).toBe('Lightning started in 2015 with a white paper.');
    const sent = ollama.chatRequests()[0].body as { messages: { role: string; content: string }[] };
    expect(sent.messages[0].role).toBe('system');
    expect(sent.messages[0].content).toContain('Echo, the Research Analyst');
    expect(sent.messages[1]).toEqual({ role: 'user', content: task.description });
    expect(events.map((e) => e.type)).toEqual(['tool.called', 'tool.completed']);
    expect(events[1].data).toMatchObject({ name: 'llm.complete', provider: 'ollama-local', model: 'llama3.2' });
    expect(events[1].data.latencyMs).toEqual(expect.any(Number));
  });

  it('with no provider reachable the task fails with a reason that tells the operator what to configure', async () => {
    await ollama.stop();
    try {
      const exec = t.app.get(LlmPersonaExecutor);
      const { events, report } = recorder();
      const err = (await exec.execute(persona, task, report).catch((e: unknown) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toMatch(/^LLM router: All providers failed/);
      expect(err.message).toContain('start Ollama');
      expect(err.message).toContain('MC_TEST_NO_SUCH_OPENAI_KEY');
      expect(events.map((e) => e.type)).toEqual(['tool.called', 'tool.failed']);
      expect(events[1].data).toMatchObject({ name: 'llm.complete', code: 'router/all_providers_failed' });
      // a pooled keep-alive socket dies as a reset, a new connection is refused: both retryable
      const reasons = (events[1].data.attempts as { provider: string; reason: string }[]).filter((a) => a.provider === 'ollama-local').map((a) => a.reason);
      expect(reasons.length).toBe(2);
      expect(reasons.every((x) => x === 'connection_refused' || x === 'connection_reset')).toBe(true);
      expect(reasons[reasons.length - 1]).toBe('connection_refused');
    } finally {
      await ollama.start();
    }
    // the persona route still works once Ollama is back (after the circuit's recovery, or at once if it stayed closed)
    await request(t.url).post('/api/router/providers/ollama-local/control').set('authorization', `Bearer ${t.adminKey}`).send({ action: 'reset_circuit' }).expect(200);
    const r = await t.app.get(LlmPersonaExecutor).execute(persona, task, recorder().report);
    expect(r.result.length).toBeGreaterThan(0);
  });
});
