import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import request from 'supertest';
import { makeRepo, unifiedDiff, type TestRepo } from '../support/git-repo';
import { enrollAgent } from '../support/swarm-helpers';
import { ADMIN_PASSWORD, startTestApp, waitFor, type TestApp } from '../support/test-app';

const ROOT = resolve(__dirname, '../../../..');
const WEB_DIST = join(ROOT, 'apps/web/dist');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * Issue 10 section 5: in real Chromium, an external agent proposes a diff, the operator sees the nav badge, opens the
 * diff, approves, watches the test output stream and the state reach applied; then the same approval from `/m`.
 */
describe('upgrades in Chromium', () => {
  let t: TestApp;
  let repo: TestRepo;
  let browser: Browser;
  let agent: { id: string; key: string };

  const propose = async (title: string, file: string, content = `${title}\n`) =>
    (await request(t.url).post('/api/upgrades/diff').set('authorization', `Bearer ${agent.key}`).send({ title, rationale: `rationale of ${title}`, diff: unifiedDiff(file, null, content) }).expect(201)).body as {
      id: string;
    };
  const stateOf = async (id: string) => (await request(t.url).get(`/api/upgrades/${id}`).set('authorization', `Bearer ${t.adminKey}`).expect(200)).body.state as string;

  async function login(context: BrowserContext): Promise<void> {
    const res = await context.request.post(`${t.url}/api/auth/login`, { data: { username: 'admin', password: ADMIN_PASSWORD } });
    expect(res.status()).toBe(200);
  }

  beforeAll(async () => {
    if (!existsSync(join(WEB_DIST, 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: join(ROOT, 'apps/web'), stdio: 'ignore' });
    mkdirSync(ARTIFACTS, { recursive: true });
    repo = makeRepo();
    t = await startTestApp({
      WEB_DIST,
      UPGRADE_REPO_PATH: repo.path,
      // the suite, then a pause and a last line: the page shows output while the state is still `testing`
      UPGRADE_TEST_COMMAND: 'sh run-tests.sh && sleep 3 && echo "all checks green"',
      UPGRADE_POLL_MS: 100,
      UPGRADE_WORKTREE_DIR: mkdtempSync(join(tmpdir(), 'mc-upgrade-wt-')),
    });
    agent = await enrollAgent(t, 'forge-e2e');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    repo?.remove();
  });

  it('desktop: badge -> open the diff -> approve -> output streams -> applied', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    await login(context);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${t.url}/`);
    await page.getByTestId('nav-upgrades').waitFor();
    expect(await page.getByTestId('upgrades-badge').count()).toBe(0);

    // the agent proposes while the operator is looking: the badge appears live
    const up = await propose('greeting file', 'src/greeting.ts', "export const greeting = 'greeting file';\n");
    await page.getByTestId('upgrades-badge').waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('upgrades-badge').textContent()).toBe('1');

    await page.getByTestId('nav-upgrades').click();
    await page.getByTestId(`upgrade-row-${up.id}`).click();
    await page.getByTestId('upgrade-detail').waitFor();
    const diff = page.getByTestId('diff-view');
    await diff.locator('.d2h-file-wrapper').first().waitFor();
    expect(await diff.textContent()).toContain('src/greeting.ts');
    expect(await diff.locator('.d2h-ins').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('greeting file')]));
    // syntax-highlighted (highlight.js through diff2html's UI): the TypeScript keyword and string are tokens, shown
    await waitFor(async () => (await diff.getAttribute('data-highlighted')) === 'true', 10_000);
    const keyword = diff.locator('.d2h-ins .hljs-keyword', { hasText: 'export' }).first();
    await keyword.waitFor({ state: 'visible' });
    expect(await diff.locator('.d2h-ins .hljs-string').first().textContent()).toBe("'greeting file'");
    // the token has its own colour (not the plain line colour)
    const colours = (await page.evaluate(
      "(() => { const k = document.querySelector('[data-testid=diff-view] .d2h-ins .hljs-keyword'); return [getComputedStyle(k).color, getComputedStyle(k.parentElement).color]; })()",
    )) as string[];
    expect(colours[0]).not.toBe(colours[1]);
    await page.screenshot({ path: join(ARTIFACTS, 'upgrades-diff.png'), fullPage: true });

    await page.getByTestId(`upgrade-comment-${up.id}`).fill('ship it');
    await page.getByTestId(`upgrade-approve-${up.id}`).click();
    // output arrives while the run is still testing (live events, no reload)
    const output = page.getByTestId('upgrade-output');
    await waitFor(async () => (await output.textContent())?.includes('test 3 ok'), 20_000);
    const stateWhileStreaming = await page.getByTestId('upgrade-state').textContent();
    expect(['testing', 'applied']).toContain(stateWhileStreaming);
    await waitFor(async () => (await page.getByTestId('upgrade-state').textContent()) === 'applied', 30_000);
    expect(await output.textContent()).toContain('all checks green');
    expect(await page.getByTestId('upgrades-badge').count()).toBe(0);
    expect(await page.getByTestId('upgrade-decisions').textContent()).toContain('ship it');
    expect(await stateOf(up.id)).toBe('applied');
    const applied = (await request(t.url).get(`/api/upgrades/${up.id}`).set('authorization', `Bearer ${t.adminKey}`).expect(200)).body as { mergeCommit: string };
    expect(repo.head()).toBe(applied.mergeCommit);
    await page.screenshot({ path: join(ARTIFACTS, 'upgrades-applied.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('phone (/m): the pending approval is on top with 44 px buttons; approving from the phone applies it', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await login(context);
    const page = await context.newPage();
    const up = await propose('phone approved', 'docs/phone.md');
    await page.goto(`${t.url}/m`);
    const card = page.getByTestId(`mobile-upgrade-${up.id}`);
    await card.waitFor({ timeout: 15_000 });
    const approve = page.getByTestId(`upgrade-approve-${up.id}`);
    const reject = page.getByTestId(`upgrade-reject-${up.id}`);
    for (const b of [approve, reject]) {
      const box = (await b.boundingBox())!;
      expect(box.height).toBeGreaterThanOrEqual(44);
      expect(box.width).toBeGreaterThanOrEqual(44);
    }
    // upgrades come before questions and the live feed
    const order = await page.locator('section[aria-label]').evaluateAll((els) => els.map((s) => s.getAttribute('aria-label')));
    expect(order[0]).toBe('Pending upgrades');
    await page.screenshot({ path: join(ARTIFACTS, 'upgrades-phone.png'), fullPage: true });
    await approve.tap();
    await waitFor(async () => (await stateOf(up.id)) === 'applied', 30_000);
    // the card leaves the pending list live
    await waitFor(async () => (await page.getByTestId(`upgrade-approve-${up.id}`).count()) === 0, 15_000);
    await context.close();
  }, 120_000);
});
