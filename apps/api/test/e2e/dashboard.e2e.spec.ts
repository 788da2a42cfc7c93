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
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Browser e2e in real Chromium (playwright-core): the dashboard and the phone feed against the real server,
 * with two personas and two CLI agents running as their own OS processes.
 */
describe('dashboard in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let ollama: FakeLlmServer;
  const agents: ChildProcess[] = [];

  const api = () => ({
    get: (path: string) => request(t.url).get(path).set('authorization', `Bearer ${t.adminKey}`),
    post: (path: string, body: object, key = t.adminKey) => request(t.url).post(path).set('authorization', `Bearer ${key}`).send(body),
  });

  const startCliAgent = (name: string, bid: number) => {
    const child = spawn(
      process.execPath,
      [CLI, '--url', t.url, '--key', t.adminKey, '--name', name, '--capabilities', 'research,writing', '--bid', String(bid), '--exec', 'tr a-z A-Z'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.resume();
    agents.push(child);
  };

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: join(ROOT, 'apps/web'), stdio: 'ignore' });
    if (!existsSync(CLI)) execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: join(ROOT, 'libs/agent-sdk'), stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    // personas work through the LLM router; a protocol-faithful fake Ollama plays the local model
    ollama = await startFake('ollama', 'ollama-local');
    ollama.reply = 'Fees are low and stable this week.';
    const providers = writeProvidersYaml({
      cascade: fastCascade({ health_check: { interval_ms: 0, timeout_ms: 500 } }),
      providers: [{ name: 'ollama-local', type: 'ollama', priority: 1, url: ollama.url, models: [{ name: 'llama3.2', default: true }] }],
    });
    t = await startTestApp({ WEB_DIST, AUCTION_WINDOW_MS: 3000, LLM_PROVIDERS_PATH: providers });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    for (const a of agents) a.kill('SIGTERM');
    await Promise.all(agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))));
    await browser?.close();
    await t?.close();
    await ollama?.stop();
  });

  async function login(context: BrowserContext): Promise<void> {
    const res = await context.request.post(`${t.url}/api/auth/login`, { data: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(res.status()).toBe(200);
  }

  it('desktop: log in, spawn personas, start CLI agents, post a task and watch it finish live', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    let navigations = 0;
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);

    await page.goto(`${t.url}/`);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await expect(waitForText(page, 'connection-status', 'Live')).resolves.toBe(true);

    await page.getByTestId('persona-spawn-echo').click();
    await page.getByTestId('persona-spawn-forge').click();
    await page.getByTestId('agent-persona-echo').waitFor();
    await page.getByTestId('agent-persona-forge').waitFor();

    startCliAgent('scout', 5);
    startCliAgent('ranger', 7);
    await page.getByTestId('agent-scout').waitFor({ timeout: 20_000 });
    await page.getByTestId('agent-ranger').waitFor({ timeout: 20_000 });
    await waitFor(async () => (await api().get('/api/agents/scout')).body.status === 'idle', 20_000);
    await waitFor(async () => (await api().get('/api/agents/ranger')).body.status === 'idle', 20_000);
    const navBefore = navigations;

    const description = 'research the lightning fee market';
    await page.getByTestId('task-description').fill(description);
    await page.getByTestId('task-submit').click();

    const feed = page.getByTestId('activity-feed');
    await feed.locator('[data-type="task.created"]').first().waitFor();
    await feed.locator('[data-type="task.bidding"]').first().waitFor();
    await waitFor(async () => (await feed.locator('[data-type="bid.submitted"]').count()) >= 4, 15_000);
    const tasks = (await api().get('/api/tasks?limit=1')).body.items;
    const taskId = tasks[0].id as string;
    await page.getByTestId(`auction-${taskId}`).waitFor();
    await feed.locator('[data-type="auction.closed"]').first().waitFor({ timeout: 15_000 });
    await feed.locator('[data-type="task.assigned"]').first().waitFor();
    await feed.locator('[data-type="task.completed"]').first().waitFor({ timeout: 20_000 });
    await page.getByText(description.toUpperCase()).first().waitFor();
    const detail = (await api().get(`/api/tasks/${taskId}`)).body;
    expect(detail).toMatchObject({ status: 'completed', assignedAgentId: 'scout', winningBidSats: 5, result: description.toUpperCase() });

    expect(navigations).toBe(navBefore); // everything arrived live, no reload
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-desktop.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('phone (375x812): pending question on top, answer from the phone, live feed survives a dropped connection', async () => {
    const context = await browser.newContext({ viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await login(context);
    const page = await context.newPage();
    await page.goto(`${t.url}/m`);
    await expect(waitForState(page, 'live')).resolves.toBe(true);

    // an external agent asks the operator a question
    const enrolled = await api().post('/api/agents', { name: 'asker', capabilities: ['planning'] }).expect(201);
    const agentKey = enrolled.body.key as string;
    await api().post('/api/agents/me/join', {}, agentKey).expect(200);
    const q = await api().post('/api/questions', { question: 'Ship the release tonight?', options: ['yes', 'no'] }, agentKey).expect(201);
    const card = page.getByTestId(`question-${q.body.id}`);
    await card.waitFor();
    const yes = card.getByTestId('answer-yes');
    const box = await yes.boundingBox();
    expect(box!.height).toBeGreaterThanOrEqual(44);
    await yes.tap();
    await waitFor(async () => (await api().get(`/api/questions/${q.body.id}`)).body.status === 'answered', 10_000);
    await card.waitFor({ state: 'detached', timeout: 10_000 });

    // a task posted through the API finishes, live
    const first = await api().post('/api/tasks', { description: 'summarize the mempool', auctionWindowMs: 500 }).expect(201);
    const mobileFeed = page.getByTestId('mobile-feed');
    await waitFor(async () => (await mobileFeed.locator(`[data-type="task.completed"]`).count()) >= 1, 20_000);

    // drop the connection, work happens meanwhile, then the phone catches up by seq
    await context.setOffline(true);
    await page.getByTestId('mobile-reconnecting').waitFor({ timeout: 15_000 });
    const second = await api().post('/api/tasks', { description: 'draft the weekly report', auctionWindowMs: 500 }).expect(201);
    await waitFor(async () => (await api().get(`/api/tasks/${second.body.id}`)).body.status === 'completed', 20_000);
    await context.setOffline(false);
    await page.getByTestId('mobile-reconnecting').waitFor({ state: 'detached', timeout: 20_000 });
    await waitFor(async () => (await mobileFeed.locator(`[data-type="task.completed"]`).count()) >= 2, 20_000);
    const seqs = await mobileFeed.locator('[data-seq]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-seq'))));
    expect(new Set(seqs).size).toBe(seqs.length); // each event once
    expect(first.body.id).not.toBe(second.body.id);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-mobile.png'), fullPage: true });
    await context.close();
  });

  it('router page: providers with circuit state, chart and controls, live through the router channel', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await login(context);
    const page = await context.newPage();
    // a persona does real work through the router so the page has traffic to show
    const done = await api().post('/api/tasks', { description: 'summarize fee trends', agentId: 'persona-echo' }).expect(201);
    await waitFor(async () => (await api().get(`/api/tasks/${done.body.id}`)).body.status === 'completed', 15_000);
    expect((await api().get(`/api/tasks/${done.body.id}`)).body.result).toBe('Fees are low and stable this week.');

    await page.goto(`${t.url}/`);
    await page.getByTestId('router-health-badge').waitFor();
    await page.getByTestId('nav-router').click();
    const card = page.getByTestId('router-provider-ollama-local');
    await card.waitFor();
    await page.getByTestId('router-circuit-ollama-local').filter({ hasText: /closed/i }).waitFor();
    await page.getByTestId('router-chart').waitFor({ timeout: 15_000 });
    await page.getByTestId('router-disable-ollama-local').click();
    await card.getByText(/disabled/i).first().waitFor({ timeout: 10_000 });
    expect((await api().get('/api/router/providers').expect(200)).body.find((p: { name: string }) => p.name === 'ollama-local')).toMatchObject({ enabled: false });
    await page.getByTestId('router-enable-ollama-local').click();
    await page.getByTestId('router-disable-ollama-local').waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-router.png'), fullPage: true });
    await context.close();
  });

  it('Swagger UI is served on the same port and a developer can authorize with an API key', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${t.url}/api/docs`);
    await page.getByRole('button', { name: /authorize/i }).first().click();
    const input = page.locator('.modal-ux input[type="text"], .modal-ux input[type="password"]').first();
    await input.fill(t.adminKey);
    await page.locator('.modal-ux button.authorize').first().click();
    await page.locator('.modal-ux button.close-modal').first().click();
    const op = page.locator('#operations-agents-AgentsController_list, [id^="operations-agents-"]').first();
    await op.locator('.opblock-summary').first().click();
    await op.getByRole('button', { name: /try it out/i }).click();
    await op.getByRole('button', { name: /execute/i }).click();
    await op.locator('.live-responses-table tbody .response-col_status').first().waitFor();
    const status = (await op.locator('.live-responses-table tbody .response-col_status').first().innerText()).trim();
    const body = await op.locator('.live-responses-table tbody .response-col_description').first().innerText();
    expect({ status, id: await op.getAttribute('id'), body: body.slice(0, 200) }).toMatchObject({ status: '200' });
    await context.close();
  });
});

async function waitForText(page: Page, testId: string, text: string): Promise<boolean> {
  await page.getByTestId(testId).filter({ hasText: text }).first().waitFor({ timeout: 15_000 });
  return true;
}

async function waitForState(page: Page, state: string): Promise<boolean> {
  await page.locator(`[data-testid="connection-status"][data-state="${state}"]`).first().waitFor({ timeout: 15_000 });
  return true;
}
