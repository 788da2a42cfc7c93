import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import request from 'supertest';
import { ensureBuilt, startServer, stop, type Server } from '../support/server-process';
import { ADMIN_PASSWORD, createKeyWithPassword, waitFor } from '../support/test-app';

const ROOT = resolve(__dirname, '../../../..');
const WEB_DIR = join(ROOT, 'apps/web');
const WEB_DIST = join(WEB_DIR, 'dist');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** A memo with markup: the page must show it as text. */
const MEMO = 'e2e top-up <b>bold</b> <img src=x onerror="window.__pwned=1">';

/** Newest mtime (ms) of any file under `dir`. */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    newest = Math.max(newest, st.isDirectory() ? newestMtime(p) : st.mtimeMs);
  }
  return newest;
}

/** Builds the dashboard when dist is missing or older than its sources (vite, ~2 s). */
function ensureWebBuilt(): void {
  const index = join(WEB_DIST, 'index.html');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(join(WEB_DIR, 'src'))) return;
  execFileSync('npx', ['vite', 'build'], { cwd: WEB_DIR, stdio: 'ignore' });
}

/** `<input type="datetime-local">` value of `ms` in the browser's time zone (the page converts it back to UTC). */
const localInput = (page: Page, ms: number) =>
  page.evaluate((t) => {
    const d = new Date(t);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }, ms);

/**
 * Issue 8 sections 4 and 5 in real Chromium against the built product (`node dist/main.js`, its own OS process, a
 * SQLite file, LIGHTNING_BACKEND=mock): the admin creates an invoice in the dialog (QR + bolt11), the mock node settles
 * it and the balance cards and chart move live; a remote invoice is decoded (nothing paid yet), confirmed and paid; the
 * CSV export of a date range has the rows; an agent's settled invoice shows in the earnings; the phone view lists the
 * payments. A viewer gets no ledger nav, page or data.
 */
describe('ledger page in Chromium', () => {
  let server: Server;
  let browser: Browser;
  let adminKey: string;
  let dataDir: string;
  const auth = () => ({ authorization: `Bearer ${adminKey}` });

  async function login(context: BrowserContext, username = 'admin', password = ADMIN_PASSWORD): Promise<void> {
    const res = await context.request.post(`${server.url}/api/auth/login`, { data: { username, password } });
    expect(res.status()).toBe(200);
  }
  const cardValue = (page: Page, key: string) => page.getByTestId(`ledger-card-${key}-value`).textContent();

  beforeAll(async () => {
    ensureBuilt();
    ensureWebBuilt();
    mkdirSync(ARTIFACTS, { recursive: true });
    dataDir = mkdtempSync(join(tmpdir(), 'mc-ledger-e2e-'));
    server = await startServer({ SQLITE_PATH: join(dataDir, 'ledger.db'), WEB_DIST, LIGHTNING_BACKEND: 'mock', LOG_LEVEL: 'error' });
    adminKey = await createKeyWithPassword(server.url, 'admin', ADMIN_PASSWORD, 'admin');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    if (server) await stop(server);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('admin: invoice dialog -> settled live -> decode + pay -> CSV export of a date range', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1100 }, acceptDownloads: true });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // log in through the form, open the Ledger from the nav
    await page.goto(`${server.url}/`);
    await page.getByTestId('login-username').fill('admin');
    await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav-ledger').click();
    await page.getByTestId('ledger-page').waitFor();
    await page.getByTestId('ledger-cards').waitFor();
    expect(await cardValue(page, 'available')).toBe('0 sats');
    await page.getByTestId('ledger-chart-empty').waitFor();
    // a marker that a reload would wipe: every later update must arrive live
    await page.evaluate(() => ((globalThis as { __noReload?: boolean }).__noReload = true));

    // create an invoice in the dialog: QR code (an <img>, decoded by the browser) and the bolt11 with a copy button
    await page.getByTestId('ledger-create-invoice').click();
    await page.getByTestId('invoice-amount-input').fill('5,000');
    await page.getByTestId('invoice-memo-input').fill(MEMO);
    await page.getByTestId('invoice-expiry-input').selectOption('3600');
    await page.getByTestId('invoice-submit').click();
    const created = page.getByTestId('invoice-created');
    await created.waitFor();
    const hash = (await created.getAttribute('data-hash'))!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const qr = page.getByTestId('invoice-qr');
    await qr.waitFor();
    expect(await qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    // the browser decoded the SVG (the API test tsconfig has no DOM lib: the page-side code is a string)
    await waitFor(async () => Number(await page.evaluate("(() => { const i = document.querySelector('[data-testid=invoice-qr]'); return i && i.complete ? i.naturalWidth : 0; })()")) > 0, 10_000);
    const bolt11 = await page.getByTestId('invoice-bolt11').inputValue();
    expect(bolt11).toMatch(/^ln[a-z]+[0-9]/);
    expect(await page.getByTestId('invoice-amount').textContent()).toBe('5,000 sats');
    expect(await created.textContent()).toContain(MEMO);
    expect(await created.locator('b, img:not([data-testid=invoice-qr])').count()).toBe(0);
    await page.getByTestId('invoice-copy').click();
    await waitFor(async () => (await page.getByTestId('invoice-copy').textContent()) === 'Copied', 5_000);
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(bolt11);
    expect(await page.getByTestId('invoice-status').textContent()).toBe('pending');
    // pending in, with its badge, live (the invoice.created event)
    await waitFor(async () => (await cardValue(page, 'pendingIn')) === '5,000 sats', 10_000);
    await page.getByTestId('ledger-card-pendingIn-pending').waitFor();

    // the mock node settles it (an outside payer): status, cards and chart follow without a reload
    await request(server.url).post(`/api/ledger/dev/invoices/${hash}/settle`).set(auth()).send({}).expect(200);
    await waitFor(async () => (await page.getByTestId('invoice-status').textContent()) === 'settled', 10_000);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-ledger-invoice.png') });
    await waitFor(async () => (await cardValue(page, 'available')) === '5,000 sats', 10_000);
    expect(await cardValue(page, 'pendingIn')).toBe('0 sats');
    expect(await page.getByTestId('ledger-card-pendingIn-pending').count()).toBe(0);
    const chart = page.getByTestId('ledger-chart');
    await waitFor(async () => (await chart.getAttribute('data-last-sats')) === '5000', 10_000);
    expect(await chart.locator('.recharts-line-dot, .recharts-dot').count()).toBeGreaterThanOrEqual(1);
    await page.getByTestId('invoice-dialog-close').click();
    await page.locator(`[data-testid=ledger-tx-row][data-hash="${hash}"][data-status=settled]`).waitFor();
    expect(await page.locator(`[data-testid=ledger-tx-row][data-hash="${hash}"]`).textContent()).toContain(MEMO);

    // pay an invoice of the simulated remote peer: decode first (amount, fee limit, expiry, description), nothing paid
    const remote = (
      await request(server.url).post('/api/ledger/dev/remote-invoices').set(auth()).send({ amountMsat: 1_200_000, memo: 'remote coffee', expirySeconds: 1800, outcome: 'succeed', feeMsat: 3_000 }).expect(201)
    ).body as { bolt11: string; paymentHash: string };
    await page.getByTestId('ledger-pay').click();
    await page.getByTestId('pay-bolt11-input').fill(`lightning:${remote.bolt11}`);
    await page.getByTestId('pay-decode').click();
    await page.getByTestId('pay-decoded').waitFor();
    expect(await page.getByTestId('pay-decoded-amount').textContent()).toBe('1,200 sats');
    expect(await page.getByTestId('pay-decoded-fee').textContent()).toBe('12 sats'); // max(10 sats, 1 %)
    expect(await page.getByTestId('pay-decoded-description').textContent()).toBe('remote coffee');
    expect(await page.getByTestId('pay-decoded-expiry').textContent()).toMatch(/\(in (29|30)m\)/);
    const before = await request(server.url).get('/api/ledger/transactions?type=outgoing').set(auth()).expect(200);
    expect(before.body.items).toEqual([]);
    await page.getByTestId('pay-confirm').click();
    await page.locator('[data-testid=pay-result][data-status=settled]').waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-ledger-pay.png') });
    const paid = (await request(server.url).get(`/api/ledger/payments/${remote.paymentHash}`).set(auth()).expect(200)).body as { status: string; amountMsat: number; feeMsat: number; maxFeeMsat: number };
    expect(paid).toMatchObject({ status: 'settled', amountMsat: 1_200_000, feeMsat: 3_000, maxFeeMsat: 12_000 });
    await page.getByTestId('pay-dialog-close').click();
    // 5,000 - 1,200 - 3 (fee) = 3,797 sats, fees card 3 sats, the chart's last point too
    await waitFor(async () => (await cardValue(page, 'available')) === '3,797 sats', 10_000);
    expect(await cardValue(page, 'fees')).toBe('3 sats');
    await waitFor(async () => (await chart.getAttribute('data-last-sats')) === '3797', 10_000);
    await waitFor(async () => (await page.getByTestId('ledger-tx-row').count()) === 2, 10_000);

    // filters: outgoing only
    await page.getByTestId('ledger-filter-type').selectOption('outgoing');
    await page.getByTestId('ledger-filter-apply').click();
    await waitFor(async () => (await page.getByTestId('ledger-tx-row').count()) === 1, 10_000);
    expect(await page.getByTestId('ledger-tx-row').getAttribute('data-hash')).toBe(remote.paymentHash);
    await page.getByTestId('ledger-filter-type').selectOption('');
    await page.getByTestId('ledger-filter-apply').click();
    await waitFor(async () => (await page.getByTestId('ledger-tx-row').count()) === 2, 10_000);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-ledger.png'), fullPage: true });

    // CSV export of a date range around now: both rows; a range in the past: the header only
    const now = Date.now();
    await page.getByTestId('ledger-export-from').fill(await localInput(page, now - 3_600_000));
    await page.getByTestId('ledger-export-to').fill(await localInput(page, now + 3_600_000));
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ledger-export-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8').trim().split('\n');
    expect(download.suggestedFilename()).toMatch(/^ledger-.*\.csv$/);
    expect(csv[0]).toBe('createdAt,id,type,status,amountMsat,feeMsat,paymentHash,memo,accountId,agentId,taskId,settledAt,expiresAt,failureReason,bolt11');
    expect(csv).toHaveLength(3);
    expect(csv[1]).toContain(hash);
    expect(csv[1]).toContain('incoming,settled,5000000,0');
    expect(csv[2]).toContain(remote.paymentHash);
    expect(csv[2]).toContain('outgoing,settled,1200000,3000');
    await page.getByTestId('ledger-export-from').fill(await localInput(page, now - 3 * 86_400_000));
    await page.getByTestId('ledger-export-to').fill(await localInput(page, now - 2 * 86_400_000));
    const [empty] = await Promise.all([page.waitForEvent('download'), page.getByTestId('ledger-export-csv').click()]);
    expect(readFileSync((await empty.path())!, 'utf8').trim().split('\n')).toHaveLength(1);

    // per-agent earnings: an invoice to an agent's account, settled, appears live; the agent filter finds its row
    const agentInvoice = (await request(server.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 2_100_000, memo: 'forge payout', agentId: 'forge-e2e' }).expect(201)).body as { paymentHash: string };
    await request(server.url).post(`/api/ledger/dev/invoices/${agentInvoice.paymentHash}/settle`).set(auth()).send({}).expect(200);
    const earning = page.getByTestId('ledger-agent-forge-e2e');
    await earning.waitFor({ timeout: 10_000 });
    expect(await earning.textContent()).toContain('2,100 sats');
    await page.getByTestId('ledger-filter-agent').fill('forge-e2e');
    await page.getByTestId('ledger-filter-apply').click();
    await waitFor(async () => (await page.getByTestId('ledger-tx-row').count()) === 1, 10_000);
    expect(await page.getByTestId('ledger-tx-row').getAttribute('data-hash')).toBe(agentInvoice.paymentHash);

    expect(await page.evaluate(() => (globalThis as { __noReload?: boolean }).__noReload)).toBe(true);

    // the Live feed shows the payment (ledger events through the events formatter, as text)
    await page.getByTestId('nav-live').click();
    const sent = page.locator('[data-testid=feed-item][data-type="payment.sent"]');
    await sent.first().waitFor({ timeout: 10_000 });
    expect(await sent.first().textContent()).toContain('paid 1200 sats');

    expect(errors).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    await context.close();
  }, 120_000);

  it('phone (/m): operators see the latest payments with their status, updated live', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await login(context);
    const page = await context.newPage();
    await page.goto(`${server.url}/m`);
    const list = page.getByTestId('mobile-ledger');
    await list.waitFor();
    await waitFor(async () => (await page.getByTestId('mobile-ledger-item').count()) === 3, 10_000);
    // a new invoice appears live, pending
    const inv = (await request(server.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 21_000, memo: 'phone invoice' }).expect(201)).body as { paymentHash: string };
    const item = page.locator(`[data-testid=mobile-ledger-item][data-hash="${inv.paymentHash}"]`);
    await item.waitFor({ timeout: 10_000 });
    expect(await item.getAttribute('data-status')).toBe('pending');
    expect(await item.textContent()).toContain('21 sats');
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-ledger-phone.png'), fullPage: true });
    await context.close();
  }, 60_000);

  it('the transactions table is virtualised and pages by cursor as it scrolls', async () => {
    const before = (await request(server.url).get('/api/ledger/transactions?limit=500').set(auth()).expect(200)).body.items.length as number;
    for (let batch = 0; batch < 13; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => request(server.url).post('/api/ledger/invoices').set(auth()).send({ amountMsat: 1_000 * (batch * 10 + i + 1), memo: `bulk ${batch * 10 + i}` }).expect(201)),
      );
    }
    const total = before + 130;
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    await login(context);
    const page = await context.newPage();
    await page.goto(`${server.url}/ledger`);
    const table = page.getByTestId('ledger-transactions');
    await table.waitFor();
    // the first page (100 rows) is loaded, only the visible rows are in the DOM
    await waitFor(async () => Number(await table.getAttribute('data-rows')) >= 100, 10_000);
    expect(await page.getByTestId('ledger-tx-row').count()).toBeLessThan(60);
    // scrolling to the end loads the next cursor page, up to the end
    await waitFor(async () => {
      await page.evaluate("(() => { const b = document.querySelector('.ledger-tx__body'); b.scrollTop = b.scrollHeight; })()");
      return Number(await table.getAttribute('data-rows')) === total;
    }, 15_000);
    await page.getByText(`${total} loaded · end`).waitFor();
    expect(await page.getByTestId('ledger-load-more').count()).toBe(0);
    // the oldest transaction (the first invoice of the suite) is the last row
    const rows = (await request(server.url).get('/api/ledger/transactions?limit=500').set(auth()).expect(200)).body.items as { paymentHash: string }[];
    expect(rows).toHaveLength(total);
    // (the last page made the list longer than where the scroll stopped: scroll to the new end first)
    const oldest = page.locator(`[data-testid=ledger-tx-row][data-hash="${rows[rows.length - 1].paymentHash}"]`);
    await waitFor(async () => {
      await page.evaluate("(() => { const b = document.querySelector('.ledger-tx__body'); b.scrollTop = b.scrollHeight; })()");
      return (await oldest.count()) === 1;
    }, 10_000, 100);
    await context.close();
  }, 90_000);

  it('a viewer gets no Ledger nav, page, phone section or ledger data', async () => {
    const password = 'a-long-viewer-password';
    await request(server.url).post('/api/users').set(auth()).send({ username: 'ledgerviewer', password, role: 'viewer' }).expect(201);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await login(context, 'ledgerviewer', password);
    const page = await context.newPage();
    const ledgerCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/ledger')) ledgerCalls.push(r.url());
    });
    await page.goto(`${server.url}/`);
    await page.getByTestId('nav-live').waitFor();
    expect(await page.getByTestId('nav-ledger').count()).toBe(0);
    // a typed /ledger URL lands on Live, with no ledger content
    await page.goto(`${server.url}/ledger`);
    await page.getByTestId('nav-live').waitFor();
    await waitFor(() => new URL(page.url()).pathname === '/', 5_000);
    expect(await page.getByTestId('ledger-page').count()).toBe(0);
    await page.goto(`${server.url}/m`);
    await page.getByTestId('mobile-feed').waitFor();
    expect(await page.getByTestId('mobile-ledger').count()).toBe(0);
    expect(ledgerCalls).toEqual([]);
    // and the API refuses the viewer's session
    const res = await context.request.get(`${server.url}/api/ledger/balances`);
    expect(res.status()).toBe(403);
    await context.close();
  }, 60_000);
});
