import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { startFake, type FakeLlmServer } from '../support/fakes/fake-llm-server';
import { fastCascade, writeProvidersYaml } from '../support/fakes/router-config';
import { ADMIN_PASSWORD, startTestApp, waitFor, type TestApp } from '../support/test-app';

const ROOT = resolve(__dirname, '../../../..');
const WEB_DIST = join(ROOT, 'apps/web/dist');
const CLI = join(ROOT, 'libs/agent-sdk/dist/cli.js');
const ARTIFACTS = join(ROOT, 'test-artifacts/opx');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * Issue 12, second round, in real Chromium against the real server and a fake Ollama: personas that cannot reach an
 * LLM say so and the post form warns; assigning a task mid-auction from the task page; the Events page's short-id
 * filter, filter chips and URL state; nav badges, favicon and the Swagger link; the Settings enrol command, run as
 * printed. The web bundle and the SDK must be built (`pnpm build`).
 */
describe('operator actions in Chromium (issue 12)', () => {
  let t: TestApp;
  let browser: Browser;
  let ollama: FakeLlmServer;
  const children: ChildProcess[] = [];

  const api = () => ({
    get: (path: string) => request(t.url).get(path).set('authorization', `Bearer ${t.adminKey}`),
    post: (path: string, body: object = {}, key = t.adminKey) => request(t.url).post(path).set('authorization', `Bearer ${key}`).send(body),
  });

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: join(ROOT, 'apps/web'), stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    ollama = await startFake('ollama', 'ollama-local');
    ollama.reply = 'Done.';
    const providers = writeProvidersYaml({
      cascade: fastCascade({ health_check: { interval_ms: 300, timeout_ms: 300 } }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ WEB_DIST, AUCTION_WINDOW_MS: 60_000, LLM_PROVIDERS_PATH: providers });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await api().post('/api/personas/echo/spawn').expect((r) => expect([200, 201]).toContain(r.status));
    await waitFor(async () => (await api().get('/api/agents/persona-echo')).body.status === 'idle', 20_000);
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await browser?.close();
    await t?.close();
    await ollama?.stop();
  });

  async function loggedIn(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const res = await context.request.post(`${t.url}/api/auth/login`, { data: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(res.status()).toBe(200);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    return { context, page, errors };
  }

  it('no LLM provider: the persona says it is not bidding (live), and the post form warns nobody can do the task', async () => {
    const { context, page, errors } = await loggedIn();
    await page.goto(`${t.url}/`);
    await page.getByTestId('agent-persona-echo').waitFor();
    expect(await page.getByTestId('agent-unavailable-persona-echo').count()).toBe(0);
    await api().post('/api/router/providers/ollama-local/control', { action: 'disable' }).expect(200);
    try {
      // no reload: the router's state change refetches the agents
      const note = page.getByTestId('agent-unavailable-persona-echo');
      await note.waitFor({ timeout: 10_000 });
      expect(await note.innerText()).toMatch(/^not bidding: no LLM provider can serve requests: ollama-local disabled/);
      await page.getByTestId('task-description').fill('write the weekly report');
      await page.getByTestId('task-submit').click();
      const warning = page.getByTestId('task-warning');
      await warning.waitFor({ timeout: 10_000 });
      expect(await warning.innerText()).toMatch(/^No agent can take this task now: the 1 online agent\(s\) are personas that do not bid while no LLM provider can serve requests/);
      await page.screenshot({ path: join(ARTIFACTS, 'post-task-warning.png'), fullPage: true });
      // the agent page says it too
      const agentPage = await context.newPage();
      await agentPage.goto(`${t.url}/agents/persona-echo`);
      await agentPage.getByTestId('agent-page-unavailable').filter({ hasText: 'no LLM provider can serve requests' }).waitFor();
      await agentPage.close();
    } finally {
      await api().post('/api/router/providers/ollama-local/control', { action: 'enable' }).expect(200);
    }
    await page.getByTestId('agent-unavailable-persona-echo').waitFor({ state: 'detached', timeout: 10_000 });
    // with a provider back, posting gives no warning
    await page.getByTestId('task-description').fill('write the monthly report');
    await page.getByTestId('task-submit').click();
    await waitFor(async () => (await api().get('/api/tasks?limit=10')).body.items.some((x: { description: string }) => x.description === 'write the monthly report'), 10_000);
    expect(await page.getByTestId('task-warning').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('task page: assign to an agent while the auction is still open (the auction closes at once)', async () => {
    const { context, page, errors } = await loggedIn();
    const task = (await api().post('/api/tasks', { description: 'assign me from the task page' }).expect(201)).body as { id: string; auctionClosesAt: string };
    await waitFor(async () => (await api().get(`/api/tasks/${task.id}`)).body.bids.length === 1, 10_000); // echo bid
    await page.goto(`${t.url}/tasks/${task.id}`);
    await page.locator('[data-testid="task-page"][data-status="bidding"]').waitFor();
    await page.getByTestId('task-action-assign-now-agent').selectOption('persona-echo');
    await page.getByTestId('task-action-assign-now').click();
    await page.locator('[data-testid="task-page"]:not([data-status="bidding"])').waitFor({ timeout: 10_000 });
    await page.getByTestId('task-timeline').locator('[data-type="auction.closed"]').waitFor({ timeout: 10_000 });
    const detail = (await api().get(`/api/tasks/${task.id}`).expect(200)).body;
    expect(detail.assignedAgentId).toBe('persona-echo');
    expect(Date.parse(detail.assignedAt)).toBeLessThan(Date.parse(task.auctionClosesAt)); // well before the window's end
    const closed = (await api().get(`/api/events?taskId=${task.id}&type=auction.closed`).expect(200)).body.items[0];
    expect(closed.data).toMatchObject({ winnerAgentId: 'persona-echo', assignedBy: expect.any(String) });
    await page.locator('[data-testid="task-page"][data-status="completed"]').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'task-assigned-mid-auction.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('events page: the short id shown filters, chips filter, and the view lives in the URL (reload, share, back)', async () => {
    const { context, page, errors } = await loggedIn();
    const task = (await api().post('/api/tasks', { description: 'find me on the events page', agentId: 'persona-echo' }).expect(201)).body as { id: string };
    await waitFor(async () => (await api().get(`/api/tasks/${task.id}`)).body.status === 'completed', 15_000);
    await page.goto(`${t.url}/events`);
    const link = page.getByTestId('events-table').locator(`a[title="${task.id}"]`).first();
    await link.waitFor();
    const shown = await link.innerText();
    expect(shown).toBe(task.id.slice(0, 8));
    await page.getByTestId('filter-task').fill(shown);
    await page.getByTestId('filter-apply').click();
    await page.waitForURL((u) => u.searchParams.get('task') === shown);
    const taskCells = async () =>
      page.getByTestId('events-table').locator('[data-testid="event-row"] a[title]').evaluateAll((els) => els.map((e) => e.getAttribute('title')).filter((x) => x && x.length === 36));
    await waitFor(async () => {
      const ids = await taskCells();
      return ids.length >= 5 && ids.every((id) => id === task.id);
    }, 10_000);
    const rows = await page.getByTestId('event-row').count();

    // reload (or a shared link) shows the same view, with the filter in the form
    await page.reload();
    await page.getByTestId('event-row').first().waitFor();
    await waitFor(async () => (await page.getByTestId('event-row').count()) === rows, 10_000);
    expect(await page.getByTestId('filter-task').inputValue()).toBe(shown);
    const shared = await context.newPage();
    await shared.goto(page.url());
    await waitFor(async () => (await shared.getByTestId('event-row').count()) === rows, 10_000);
    await shared.close();

    // a summary chip filters by its type (with the task filter kept), pressed; again clears it
    const chip = page.getByTestId('summary-task.completed');
    await chip.click();
    await page.waitForURL((u) => u.searchParams.get('type') === 'task.completed' && u.searchParams.get('task') === shown);
    await waitFor(async () => {
      const types = await page.getByTestId('event-row').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
      return types.length === 1 && types[0] === 'task.completed';
    }, 10_000);
    expect(await chip.getAttribute('aria-pressed')).toBe('true');
    expect(await page.getByTestId('filter-types').evaluate((el) => Array.from((el as unknown as { selectedOptions: ArrayLike<{ value: string }> }).selectedOptions, (o) => o.value))).toEqual(['task.completed']);
    await page.screenshot({ path: join(ARTIFACTS, 'events-filtered.png'), fullPage: true });
    // back: the previous view (task filter only) returns
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get('type') === null && u.searchParams.get('task') === shown);
    await waitFor(async () => (await page.getByTestId('event-row').count()) === rows, 10_000);
    await page.getByTestId('filter-reset').click();
    await page.waitForURL((u) => u.search === '');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('nav: open-question badge (live), favicon, and a Swagger link', async () => {
    const { context, page, errors } = await loggedIn();
    await page.goto(`${t.url}/`);
    await page.getByTestId('nav-questions').waitFor();
    expect(await page.getByTestId('questions-badge').count()).toBe(0);
    const agent = (await api().post('/api/agents', { name: 'Asker' }).expect(201)).body as { agent: { id: string }; key: string };
    await api().post('/api/agents/me/join', {}, agent.key).expect(200);
    const q1 = (await api().post('/api/questions', { question: 'ship it?', options: ['yes', 'no'] }, agent.key).expect(201)).body as { id: string };
    await api().post('/api/questions', { question: 'which day?', options: ['mon', 'tue'] }, agent.key).expect(201);
    const badge = page.getByTestId('nav-questions').getByTestId('questions-badge');
    await badge.filter({ hasText: /^2$/ }).waitFor({ timeout: 10_000 });
    // the same look as the upgrades badge: one shared class
    expect(await badge.getAttribute('class')).toBe('nav-badge');
    expect(await badge.evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { borderRadius: string } }).getComputedStyle(el).borderRadius)).toBe('999px');
    await api().post(`/api/questions/${q1.id}/answer`, { answer: ['yes'] }).expect((r) => expect([200, 201]).toContain(r.status));
    await badge.filter({ hasText: /^1$/ }).waitFor({ timeout: 10_000 });

    const icon = await page.locator('link[rel="icon"]').getAttribute('href');
    expect(icon).toBe('/favicon.svg');
    const fav = await context.request.get(`${t.url}${icon}`);
    expect(fav.status()).toBe(200);
    expect(fav.headers()['content-type']).toContain('image/svg+xml');

    const docs = page.getByTestId('nav-api-docs');
    expect(await docs.getAttribute('href')).toBe('/api/docs');
    const [swagger] = await Promise.all([context.waitForEvent('page'), docs.click()]);
    await swagger.waitForLoadState();
    expect(new URL(swagger.url()).pathname).toMatch(/^\/api\/docs/);
    await swagger.locator('section.swagger-ui').waitFor({ timeout: 15_000 });
    await swagger.close();
    await page.screenshot({ path: join(ARTIFACTS, 'nav-badges.png') });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('settings: the enrol command names this server, and run as printed it joins the agent', async () => {
    const { context, page, errors } = await loggedIn();
    await page.goto(`${t.url}/settings`);
    await page.getByTestId('enroll-name').fill('Copied Agent');
    await page.getByTestId('enroll-submit').click();
    const box = page.getByTestId('enroll-secret-command');
    await box.waitFor();
    const command = await box.inputValue();
    expect(command).toMatch(new RegExp(`^pnpm agent --url ${t.url.replace(/[.]/g, '\\.')} --key mck_\\S+ --name 'Copied Agent' --bid 20 --exec "\\.\\.\\."$`));
    // run exactly that line, with the workspace script spelled out and a real --exec
    const line = command.replace(/^pnpm agent /, `${process.execPath} ${CLI} `).replace('--exec "..."', '--exec "cat"');
    const child = spawn('sh', ['-c', `exec ${line}`], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MC_URL: '', MC_API_KEY: '' } });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(async () => (await api().get('/api/agents/copied-agent')).body.status === 'idle', 15_000);
    expect(stderr).toContain(`connecting to ${t.url}`);
    expect(stderr).not.toMatch(/mck_/);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(errors).toEqual([]);
    await context.close();
  });
});
