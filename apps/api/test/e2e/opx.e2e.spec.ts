import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ADMIN_PASSWORD, startTestApp, waitFor, type TestApp } from '../support/test-app';

const ROOT = resolve(__dirname, '../../../..');
const WEB_DIST = join(ROOT, 'apps/web/dist');
const ARTIFACTS = join(ROOT, 'test-artifacts/opx');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const REPLY = 'Fees are low and stable this week.\nMempool is nearly empty.';

/**
 * Issue 12 in real Chromium (playwright-core) against the real server and a protocol-faithful fake Ollama: the task
 * trace page (live), the agent page, the router page during and after an Ollama outage, the phone login's input size.
 * Screenshots go to test-artifacts/opx/. The web bundle must be current: `pnpm --filter @app/web build` first.
 */
describe('operator experience in Chromium (issue 12)', () => {
  let t: TestApp;
  let browser: Browser;
  let ollama: FakeLlmServer;

  const api = () => ({
    get: (path: string) => request(t.url).get(path).set('authorization', `Bearer ${t.adminKey}`),
    post: (path: string, body: object = {}) => request(t.url).post(path).set('authorization', `Bearer ${t.adminKey}`).send(body),
  });

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: join(ROOT, 'apps/web'), stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    ollama = await startFake('ollama', 'ollama-local');
    ollama.reply = REPLY;
    const providers = writeProvidersYaml({
      cascade: fastCascade({
        timeout_ms: 6000,
        max_retries: 1,
        circuit_breaker: { failure_threshold: 2, recovery_timeout_ms: 600_000, half_open_max_calls: 1 },
        health_check: { interval_ms: 300, timeout_ms: 300 },
        metrics: { flush_interval_ms: 200, bucket_seconds: 2, history_minutes: 10 },
      }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ WEB_DIST, AUCTION_WINDOW_MS: 1500, LLM_PROVIDERS_PATH: providers });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await api().post('/api/personas/echo/spawn').expect((r) => expect([200, 201]).toContain(r.status));
    await waitFor(async () => (await api().get('/api/agents/persona-echo')).body.status === 'idle', 20_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await ollama?.stop();
  });

  async function loggedIn(viewport = { width: 1440, height: 1000 }): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const res = await context.request.post(`${t.url}/api/auth/login`, { data: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(res.status()).toBe(200);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    return { context, page, errors };
  }

  it('task page: live timeline and current step while running, LLM call with prompt/response/tokens, full result, export; agent page', async () => {
    const { context, page, errors } = await loggedIn();
    ollama.latencyMs = 2500; // slow model: the page must show the running step first
    const task = (await api().post('/api/tasks', { description: 'summarize the fee market', agentId: 'persona-echo' }).expect(201)).body as { id: string };
    await page.goto(`${t.url}/tasks/${task.id}`);
    await page.getByTestId('task-current-step').filter({ hasText: 'calling llm.complete' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('task-waterfall').locator('[data-status="running"]').waitFor();
    let navigations = 0;
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
    // completes live: the page is not reloaded
    await page.locator('[data-testid="task-page"][data-status="completed"]').waitFor({ timeout: 20_000 });
    await page.getByTestId('task-timeline').locator('[data-type="task.completed"]').waitFor({ timeout: 10_000 });
    expect(navigations).toBe(0);
    ollama.latencyMs = 0;
    expect(await page.getByTestId('task-result').innerText()).toBe(REPLY); // full, multi-line, not truncated
    const call = page.getByTestId('task-llm-call-0');
    await expect(call.innerText()).resolves.toMatch(/ollama-local[\s\S]*llama3\.2[\s\S]*tokens \d+ in \/ \d+ out/);
    await page.getByTestId('task-llm-prompt-0').locator('summary').click();
    await expect(page.getByTestId('task-llm-prompt-0').innerText()).resolves.toContain('Echo');
    await expect(page.getByTestId('task-llm-response-0').innerText()).resolves.toContain('Mempool is nearly empty.');
    const types = await page.getByTestId('task-timeline').locator('[data-type]').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
    expect(types).toEqual(expect.arrayContaining(['task.created', 'task.assigned', 'tool.called', 'tool.completed', 'task.completed']));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('task-export').click()]);
    const exported = JSON.parse(readFileSync((await download.path())!, 'utf8'));
    expect(exported).toMatchObject({ format: 'mission-control.task-trace/v1', task: { id: task.id, result: REPLY } });
    expect(exported.events.length).toBe(types.length);
    expect(exported.llmCalls[0]).toMatchObject({ provider: 'ollama-local', model: 'llama3.2', ok: true });
    await page.screenshot({ path: join(ARTIFACTS, 'task-page.png'), fullPage: true });

    // repost: same description, a new task, the page follows it
    await page.getByTestId('task-action-repost').click();
    await page.waitForURL((u) => u.pathname.startsWith('/tasks/') && !u.pathname.endsWith(task.id));
    await page.getByTestId('task-page-description').filter({ hasText: 'summarize the fee market' }).waitFor();

    // agent page from the task page
    await page.goto(`${t.url}/tasks/${task.id}`);
    await page.getByTestId('task-agent-link').click();
    await page.getByTestId('agent-page').waitFor();
    await page.getByTestId('agent-tasks').getByText('summarize the fee market').first().waitFor();
    expect(Number(await page.getByTestId('agent-completed').innerText())).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: join(ARTIFACTS, 'agent-page.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('router page during and after an Ollama outage: one story in badge, banner and card; the circuit closes with no traffic', async () => {
    const { context, page, errors } = await loggedIn({ width: 1280, height: 1100 });
    await page.goto(`${t.url}/router`);
    const card = page.getByTestId('router-provider-ollama-local');
    await card.waitFor();
    await page.getByTestId('router-retry-policy').filter({ hasText: '1 retry after the first attempt' }).waitFor();

    await ollama.stop(); // Ollama is down: connection refused
    const failed = (await api().post('/api/tasks', { description: 'draft the outage report', agentId: 'persona-echo' }).expect(201)).body as { id: string };
    await waitFor(async () => (await api().get(`/api/tasks/${failed.id}`)).body.status === 'failed', 20_000);
    await page.getByTestId('router-circuit-ollama-local').filter({ hasText: 'open' }).waitFor({ timeout: 15_000 });
    await page.getByTestId('router-status-ollama-local').filter({ hasText: 'unhealthy' }).waitFor();
    const hint = page.getByTestId('router-hint-ollama-local');
    await hint.waitFor({ timeout: 10_000 });
    expect(await hint.innerText()).toContain('nothing answers at');
    await page.locator('[data-testid="router-banner"][data-level="down"]').waitFor();
    const live = await context.newPage(); // the header badge lives on the Live page
    await live.goto(`${t.url}/`);
    await live.getByTestId('router-health-badge').filter({ hasText: 'LLM: no provider' }).waitFor({ timeout: 10_000 });
    await page.getByTestId('router-counts-chart').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'router-during-outage.png'), fullPage: true });

    // the failed task's trace shows the failed call and its attempts
    const tp = await context.newPage();
    await tp.goto(`${t.url}/tasks/${failed.id}`);
    await tp.locator('[data-testid="task-page"][data-status="failed"]').waitFor();
    // the call either reached the dead port (refused/reset) or, when the background probe had already opened the
    // circuit (a loaded machine delays the persona's call), was skipped: both are what happened, and the page says which
    await expect(tp.getByTestId('task-llm-attempts-0').innerText()).resolves.toMatch(/ollama-local: (error \(connection_(refused|reset)\)|skipped \(circuit_open\))/);
    await expect(tp.getByTestId('task-result').innerText()).resolves.toContain('nothing answers at');
    await tp.screenshot({ path: join(ARTIFACTS, 'task-page-outage.png'), fullPage: true });
    await tp.close();

    // Ollama back on the same port: the probe's trial closes the circuit; no task is posted meanwhile
    const tasksBefore = (await api().get('/api/tasks?limit=500').expect(200)).body.items.length as number;
    await ollama.start();
    await page.getByTestId('router-circuit-ollama-local').filter({ hasText: 'closed' }).waitFor({ timeout: 20_000 });
    await page.getByTestId('router-status-ollama-local').filter({ hasText: 'healthy' }).waitFor({ timeout: 10_000 });
    await page.locator('[data-testid="router-banner"][data-level="ok"]').waitFor({ timeout: 10_000 });
    await live.getByTestId('router-health-badge').filter({ hasText: /^LLM: ollama-local$/ }).waitFor({ timeout: 10_000 });
    await live.close();
    expect(await page.getByTestId('router-hint-ollama-local').count()).toBe(0);
    expect(await page.getByTestId('router-reason-ollama-local').innerText()).toMatch(/^serving/);
    expect((await api().get('/api/tasks?limit=500').expect(200)).body.items.length).toBe(tasksBefore);
    await page.getByTestId('router-chart').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'router-after-outage.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('phone width: the login inputs compute to at least 16 px (no iOS zoom on focus)', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const page = await context.newPage();
    await page.goto(`${t.url}/m`);
    await page.getByTestId('login-username').waitFor();
    const sizes = (await page.evaluate("[...document.querySelectorAll('input')].map((e) => parseFloat(getComputedStyle(e).fontSize))")) as number[];
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    for (const s of sizes) expect(s).toBeGreaterThanOrEqual(16);
    await page.screenshot({ path: join(ARTIFACTS, 'mobile-login.png') });
    await context.close();
  });
});
