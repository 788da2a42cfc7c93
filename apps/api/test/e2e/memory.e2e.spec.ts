import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import request from 'supertest';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ADMIN_PASSWORD, startTestApp, waitFor, type TestApp } from '../support/test-app';

const ROOT = resolve(__dirname, '../../../..');
const WEB_DIST = join(ROOT, 'apps/web/dist');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A task result with markup in it: the page must show it as text. */
const RESULT = 'Lightning fees settled near 3 sat/vB after the halving <b>verified</b> <img src=x onerror="window.__pwned=1">';

/**
 * Memory in real Chromium (issue 9): a persona completes a task through the fake Ollama, its result shows in the
 * Memory page's search (score breakdown, entry detail, text not HTML), and the next related task's prompt (the request
 * the fake Ollama received) carries it. Facts set on the page show their validity timeline; a viewer gets no edit
 * controls.
 */
describe('memory page in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let ollama: FakeLlmServer;
  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: join(ROOT, 'apps/web'), stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    ollama = await startFake('ollama', 'ollama-local');
    const providers = writeProvidersYaml({
      cascade: fastCascade({ health_check: { interval_ms: 0, timeout_ms: 500 } }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ WEB_DIST, AUCTION_WINDOW_MS: 1000, LLM_PROVIDERS_PATH: providers });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await ollama?.stop();
  });

  async function completeTask(page: Page, description: string): Promise<string> {
    await page.getByTestId('nav-live').click();
    await page.getByTestId('task-description').fill(description);
    await page.getByTestId('task-submit').click();
    const task = await waitFor(async () => {
      const items = (await request(t.url).get('/api/tasks?limit=5').set(auth())).body.items as { id: string; description: string; status: string }[];
      return items.find((i) => i.description === description && i.status === 'completed');
    }, 30_000);
    return task!.id;
  }

  it('a persona result shows in Memory search and reaches the next related prompt', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    await page.goto(`${t.url}/`);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('persona-spawn-echo').click();
    await page.getByTestId('agent-persona-echo').waitFor();
    await waitFor(async () => (await request(t.url).get('/api/agents/persona-echo').set(auth())).body.status === 'idle', 20_000);

    ollama.reply = RESULT;
    const firstTask = await completeTask(page, 'research the lightning fee market');

    // the result is in memory and findable on the page, with its score breakdown
    await page.getByTestId('nav-memory').click();
    await page.getByTestId('memory-page').waitFor();
    await page.getByTestId('memory-query').fill('lightning fees halving');
    await page.getByTestId('memory-filter-type').selectOption('task_result');
    await page.getByTestId('memory-filter-task').fill(firstTask);
    await page.getByTestId('memory-search-submit').click();
    const hit = page.locator('[data-testid^="memory-hit-"]').first();
    await hit.waitFor({ timeout: 15_000 });
    expect(await hit.getByTestId('memory-hit-content').textContent()).toBe(RESULT);
    expect(await hit.locator('b, img').count()).toBe(0);
    expect(Number(await hit.locator('[data-component="lexical"]').textContent())).toBeGreaterThan(0);
    expect(await page.getByTestId('memory-search-mode').textContent()).toMatch(/mode (hybrid|lexical)/);
    await hit.locator('button').click();
    await page.getByTestId('memory-entry').waitFor();
    expect(await page.getByTestId('memory-entry-content').textContent()).toBe(RESULT);
    expect(await page.getByTestId('memory-entry').textContent()).toContain('persona-echo');
    // the stats panel counts it
    await waitFor(async () => Number(await page.getByTestId('memory-stats-type-task_result').textContent().then((s) => s?.replace(/\D/g, ''))) >= 1, 10_000);

    // a fact set on the page, then superseded: the timeline shows both versions, the newest open
    await page.getByTestId('fact-subject').fill('operator');
    await page.getByTestId('fact-key').fill('fee_policy');
    await page.getByTestId('fact-content').fill('Keep fees under 5 sat/vB');
    await page.getByTestId('fact-submit').click();
    await page.getByTestId('memory-fact-operator-fee_policy').waitFor();
    await page.getByTestId('fact-content').fill('Keep fees under 2 sat/vB');
    await page.getByTestId('fact-submit').click();
    await waitFor(async () => (await page.getByTestId('memory-fact-version').count()) === 2, 10_000);
    expect(await page.getByTestId('memory-fact-version').evaluateAll((els) => els.map((e) => e.getAttribute('data-open')))).toEqual(['false', 'true']);

    await page.screenshot({ path: join(ARTIFACTS, 'e2e-memory.png'), fullPage: true });

    // the next related task's prompt carries the stored result (and the personal fact) in its memory context
    ollama.reply = 'Summary done.';
    const before = ollama.chatRequests().length;
    await completeTask(page, 'summarise the lightning fee market after the halving');
    const sent = ollama.chatRequests().slice(before);
    expect(sent.length).toBeGreaterThanOrEqual(1);
    const prompt = JSON.stringify((sent.at(-1)!.body as { messages: unknown[] }).messages);
    expect(prompt).toContain('Lightning fees settled near 3 sat/vB after the halving');
    expect(prompt).toContain('Keep fees under 2 sat/vB');
    expect(prompt).not.toContain('Keep fees under 5 sat/vB');

    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await context.close();
  }, 120_000);

  it('a viewer reads Memory without edit controls', async () => {
    const password = 'a-long-viewer-password';
    await request(t.url).post('/api/users').set(auth()).send({ username: 'memviewer', password, role: 'viewer' }).expect(201);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const login = await context.request.post(`${t.url}/api/auth/login`, { data: { username: 'memviewer', password } });
    expect(login.status()).toBe(200);
    const page = await context.newPage();
    await page.goto(`${t.url}/memory`);
    await page.getByTestId('memory-stats-total').waitFor();
    await page.getByTestId('memory-fact-operator-fee_policy').waitFor();
    await page.getByTestId('memory-fact-operator-fee_policy').locator('button').click();
    await page.getByTestId('memory-fact-timeline').waitFor();
    await page.getByTestId('memory-query').fill('lightning fees');
    await page.getByTestId('memory-search-submit').click();
    const hit = page.locator('[data-testid^="memory-hit-"]').first();
    await hit.waitFor({ timeout: 15_000 });
    await hit.locator('button').click();
    await page.getByTestId('memory-entry-content').waitFor();
    for (const id of ['memory-fact-form', 'memory-entry-delete', 'memory-reindex-start']) expect(await page.getByTestId(id).count()).toBe(0);
    await context.close();
  }, 60_000);
});
