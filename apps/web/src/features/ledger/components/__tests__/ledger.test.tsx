import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import type { DecodedInvoiceDto } from '@app/contracts';
import { balances, tx } from '../../__tests__/fixtures';
import { BalanceCards } from '../BalanceCards';
import { CreateInvoiceDialog } from '../CreateInvoiceDialog';
import { PayDialog } from '../PayDialog';
import { TransactionsTable } from '../TransactionsTable';

const PAYLOAD = '<img src=x onerror="window.__pwned=true"><script>window.__pwned=true</script><b>bold</b>';

type Call = { url: string; method: string; body?: unknown };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Stubs fetch with `responder`; returns the calls made. */
function fakeFetch(responder: (call: Call) => Response) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit = {}) => {
    const call = { url, method: init.method ?? 'GET', body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined };
    calls.push(call);
    return responder(call);
  });
  return calls;
}

function wrap(children: ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  return <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('BalanceCards', () => {
  it('shows the node balance in sats with pending badges only on pending money', () => {
    render(<BalanceCards balances={balances({ availableMsat: 3_797_000, netMsat: 3_797_000, pendingIncomingMsat: 21_000, feesMsat: 3_000 })} />);
    expect(screen.getByTestId('ledger-card-available-value').textContent).toBe('3,797 sats');
    expect(screen.getByTestId('ledger-card-pendingIn-value').textContent).toBe('21 sats');
    expect(screen.getByTestId('ledger-card-fees-value').textContent).toBe('3 sats');
    expect(screen.queryByTestId('ledger-card-pendingIn-pending')).not.toBeNull();
    expect(screen.queryByTestId('ledger-card-pendingOut-pending')).toBeNull();
  });
});

describe('TransactionsTable', () => {
  // jsdom lays nothing out: give the scroll container a size so the virtualiser renders rows
  const saved = { h: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight'), w: Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientWidth') };
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 420 });
    Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 1000 });
  });
  afterAll(() => {
    if (saved.h) Object.defineProperty(HTMLElement.prototype, 'clientHeight', saved.h);
    if (saved.w) Object.defineProperty(HTMLElement.prototype, 'clientWidth', saved.w);
  });

  it('renders memo and failure reason as text and asks for the next page near the end', () => {
    const onLoadMore = vi.fn();
    const rows = [tx({ memo: PAYLOAD }), tx({ id: '22222222-2222-4222-8222-222222222222', type: 'outgoing', status: 'failed', paymentHash: 'b'.repeat(64), failureReason: PAYLOAD })];
    render(<TransactionsTable rows={rows} hasMore loadingMore={false} onLoadMore={onLoadMore} />);
    const table = screen.getByTestId('ledger-transactions');
    expect(table.querySelector('img, script, b')).toBeNull();
    expect(screen.getAllByTestId('ledger-tx-row')).toHaveLength(2);
    expect(table.textContent).toContain(PAYLOAD);
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
    expect(onLoadMore).toHaveBeenCalled();
  });

  it('does not page by itself after a failed page (the button still does)', () => {
    const onLoadMore = vi.fn();
    render(<TransactionsTable rows={[tx()]} hasMore loadingMore={false} autoLoad={false} onLoadMore={onLoadMore} />);
    expect(onLoadMore).not.toHaveBeenCalled();
    fireEvent.click(screen.getByTestId('ledger-load-more'));
    expect(onLoadMore).toHaveBeenCalledTimes(1);
  });

  it('does not page past the end', () => {
    const onLoadMore = vi.fn();
    render(<TransactionsTable rows={[tx()]} hasMore={false} loadingMore={false} onLoadMore={onLoadMore} />);
    expect(onLoadMore).not.toHaveBeenCalled();
    expect(screen.queryByTestId('ledger-load-more')).toBeNull();
  });
});

describe('PayDialog', () => {
  const decoded: DecodedInvoiceDto = {
    paymentHash: 'c'.repeat(64),
    network: 'regtest',
    amountMsat: 1_200_000,
    description: `coffee ${PAYLOAD}`,
    payee: '02'.padEnd(66, 'f'),
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 1800_000).toISOString(),
    expired: false,
    internal: false,
  };

  it('decodes first (no payment), shows amount, fee limit, expiry and description, pays only on confirm', async () => {
    const calls = fakeFetch((c) => (c.url === '/api/ledger/decode' ? json(200, decoded) : json(201, tx({ type: 'outgoing', amountMsat: 1_200_000, feeMsat: 3_000, paymentHash: decoded.paymentHash }))));
    render(wrap(<PayDialog onClose={() => undefined} />));
    fireEvent.change(screen.getByTestId('pay-bolt11-input'), { target: { value: '  lightning:lnbcrt12u1fake  ' } });
    fireEvent.click(screen.getByTestId('pay-decode'));
    await screen.findByTestId('pay-decoded');
    expect(calls.map((c) => c.url)).toEqual(['/api/ledger/decode']);
    expect(calls[0].body).toEqual({ bolt11: 'lnbcrt12u1fake' });
    expect(screen.getByTestId('pay-decoded-amount').textContent).toBe('1,200 sats');
    expect(screen.getByTestId('pay-decoded-fee').textContent).toBe('12 sats');
    expect(screen.getByTestId('pay-decoded-description').textContent).toBe(`coffee ${PAYLOAD}`);
    expect(screen.getByTestId('pay-decoded').querySelector('img, script, b')).toBeNull();
    expect(screen.getByTestId('pay-decoded-expiry').textContent).toMatch(/\(in (29|30)m\)/);

    fireEvent.change(screen.getByTestId('pay-fee-input'), { target: { value: '20' } });
    expect(screen.getByTestId('pay-decoded-fee').textContent).toBe('20 sats');
    fireEvent.click(screen.getByTestId('pay-confirm'));
    await screen.findByTestId('pay-result');
    const pay = calls.find((c) => c.url === '/api/ledger/payments')!;
    expect(pay.method).toBe('POST');
    expect(pay.body).toMatchObject({ bolt11: 'lnbcrt12u1fake', maxFeeMsat: 20_000 });
    expect((pay.body as { amountMsat?: number }).amountMsat).toBeUndefined();
    expect((pay.body as { idempotencyKey: string }).idempotencyKey).toMatch(/^web-/);
  });

  it('refuses to pay an expired invoice', async () => {
    const calls = fakeFetch(() => json(200, { ...decoded, expired: true, expiresAt: new Date(Date.now() - 1000).toISOString() }));
    render(wrap(<PayDialog onClose={() => undefined} />));
    fireEvent.change(screen.getByTestId('pay-bolt11-input'), { target: { value: 'lnbcrt12u1fake' } });
    fireEvent.click(screen.getByTestId('pay-decode'));
    await screen.findByTestId('pay-decoded');
    expect((screen.getByTestId('pay-confirm') as HTMLButtonElement).disabled).toBe(true);
    expect(calls).toHaveLength(1);
  });
});

describe('CreateInvoiceDialog', () => {
  it('creates an invoice in msat and shows its QR as an <img> (the SVG is never inserted as markup) and the bolt11', async () => {
    const invoice = tx({ status: 'pending', amountMsat: 5_000_000, memo: PAYLOAD, bolt11: 'lnbcrt50u1invoice', paymentHash: 'd'.repeat(64), settledAt: null, expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    const svg = `<svg xmlns="http://www.w3.org/2000/svg"><script>window.__pwned=true</script><rect width="1" height="1"/></svg>`;
    const calls = fakeFetch((c) => {
      if (c.url.endsWith('/qr')) return new Response(svg, { status: 200, headers: { 'content-type': 'image/svg+xml' } });
      return json(c.method === 'POST' ? 201 : 200, invoice);
    });
    render(wrap(<CreateInvoiceDialog onClose={() => undefined} />));
    expect((screen.getByTestId('invoice-submit') as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId('invoice-amount-input'), { target: { value: '5,000' } });
    fireEvent.change(screen.getByTestId('invoice-memo-input'), { target: { value: 'top up' } });
    fireEvent.change(screen.getByTestId('invoice-expiry-input'), { target: { value: '600' } });
    fireEvent.click(screen.getByTestId('invoice-submit'));
    const img = (await screen.findByTestId('invoice-qr')) as HTMLImageElement;
    expect(calls[0]).toMatchObject({ url: '/api/ledger/invoices', method: 'POST', body: { amountMsat: 5_000_000, memo: 'top up', expirySeconds: 600 } });
    expect(img.getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(screen.getByTestId('invoice-dialog').querySelector('svg, script')).toBeNull();
    expect((screen.getByTestId('invoice-bolt11') as HTMLTextAreaElement).value).toBe('lnbcrt50u1invoice');
    expect(screen.getByTestId('invoice-created').textContent).toContain(PAYLOAD);
    await waitFor(() => expect(screen.getByTestId('invoice-status').textContent).toBe('pending'));
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
  });
});
