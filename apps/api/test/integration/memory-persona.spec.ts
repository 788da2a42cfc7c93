import type { IngestibleEventType, PersonaDto, TaskDto } from '@app/contracts';
import request from 'supertest';
import { LlmPersonaExecutor } from '../../src/swarm/personas/llm-persona-executor';
import { databaseKinds, startTestApp, waitFor, type TestApp } from '../support/test-app';
import { FakeLlmServer, startFake } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';

const persona = {
  id: 'echo',
  name: 'Echo',
  role: 'Research Analyst',
  description: 'Finds, reads and summarises sources.',
  capabilities: ['research'],
  preferredKeywords: ['research'],
  rateSats: 50,
  baseBidSats: 35,
  jitterSats: 15,
  agentId: 'persona-echo',
} as PersonaDto;
const report = { tool: async (_t: IngestibleEventType, _d: Record<string, unknown>) => undefined };

/**
 * Personas use memory (issue 9 section 3): the task result is stored as a `task_result` of the persona's agent, and
 * the next related task's prompt (what the fake Ollama receives) carries it in a memory context block, along with the
 * operator's personal facts; another agent's private memories stay out.
 */
describe.each(databaseKinds())('persona memory (%s)', (db) => {
  let ollama: FakeLlmServer;
  let t: TestApp;

  beforeAll(async () => {
    ollama = await startFake('ollama', 'ollama-local');
    const yaml = writeProvidersYaml({
      cascade: fastCascade(),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ LLM_PROVIDERS_PATH: yaml }, db);
  });
  afterAll(async () => {
    await t?.close();
    await ollama.stop();
  });

  it('stores the result and puts it in the next related prompt; personal facts first; other agents private memory excluded', async () => {
    const auth = { authorization: `Bearer ${t.adminKey}` };
    await request(t.url).post('/api/memory/facts').set(auth).send({ subject: 'operator', key: 'name', content: 'The operator is called Alexander' }).expect(201);
    await request(t.url).post('/api/memory').set(auth).send({ content: 'secret Lightning channel plan of forge', agentId: 'persona-forge', type: 'observation' }).expect(201);
    const exec = t.app.get(LlmPersonaExecutor);
    ollama.reply = 'Lightning channels were first described by Poon and Dryja in 2015.';
    await exec.execute(persona, { id: 'task-1', description: 'Research the origin of Lightning channels' } as TaskDto, report);
    const stored = await waitFor(async () => {
      const r = await request(t.url).post('/api/memory/search').set(auth).send({ query: 'Poon Dryja', filters: { type: 'task_result' } }).expect(200);
      return r.body.hits[0];
    });
    expect(stored.entry).toMatchObject({ agentId: 'persona-echo', taskId: 'task-1', source: 'Echo', type: 'task_result' });

    ollama.reply = 'Done.';
    await exec.execute(persona, { id: 'task-2', description: 'Write a timeline of Lightning channels history' } as TaskDto, report);
    const sent = ollama.chatRequests().at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'system', 'user']);
    const ctx = sent.messages[1].content;
    expect(ctx.startsWith('Relevant context from memory:\nKnown facts:\n')).toBe(true);
    expect(ctx).toContain('The operator is called Alexander');
    expect(ctx).toContain('Poon and Dryja in 2015');
    expect(ctx).toContain(`[${stored.entry.id} · Echo · `);
    expect(ctx).not.toContain('secret Lightning channel plan');
  });
});
