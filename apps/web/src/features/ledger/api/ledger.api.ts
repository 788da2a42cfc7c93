import type {
  CreateInvoiceRequest,
  DecodedInvoiceDto,
  EventPage,
  LedgerBalancesDto,
  LedgerPage,
  LedgerTransactionDto,
  LedgerTransactionStatus,
  LedgerTransactionType,
  PayInvoiceRequest,
} from '@app/contracts';
import { api, ApiError, buildQuery } from '../../../lib/api-client';

/** Filters of the transactions table (and of the export). Times are ISO strings; empty strings mean "any". */
export interface LedgerFilters {
  type: LedgerTransactionType | '';
  status: LedgerTransactionStatus | '';
  agentId: string;
  from?: string;
  to?: string;
}

export const EMPTY_LEDGER_FILTERS: LedgerFilters = { type: '', status: '', agentId: '' };

/** The query parameters of a filter set (blank values left out by `buildQuery`). */
export function filterParams(f: LedgerFilters) {
  return { type: f.type, status: f.status, agentId: f.agentId.trim(), from: f.from, to: f.to };
}

/** The head of the `ledger` channel (seq + epoch), read before a snapshot: the live-update baseline. */
export async function fetchLedgerHead(): Promise<{ headSeq: number; epoch: string }> {
  const page = await api.get<EventPage>('/api/events', { channel: 'ledger', limit: 1 });
  return { headSeq: page.headSeq, epoch: page.epoch };
}

export const fetchBalances = () => api.get<LedgerBalancesDto>('/api/ledger/balances');

/** GET /api/ledger/transactions: newest first, one page; `cursor` is the previous page's `nextCursor`. */
export const fetchTransactions = (filters: LedgerFilters, cursor: string | null, limit = 100) =>
  api.get<LedgerPage<LedgerTransactionDto>>('/api/ledger/transactions', { ...filterParams(filters), cursor, limit });

export const createInvoice = (body: CreateInvoiceRequest) => api.post<LedgerTransactionDto>('/api/ledger/invoices', body);
/** GET /api/ledger/invoices/:ref (status of one of our invoices). */
export const fetchInvoice = (ref: string) => api.get<LedgerTransactionDto>(`/api/ledger/invoices/${encodeURIComponent(ref)}`);
export const decodeInvoice = (bolt11: string) => api.post<DecodedInvoiceDto>('/api/ledger/decode', { bolt11 });
export const payInvoice = (body: PayInvoiceRequest) => api.post<LedgerTransactionDto>('/api/ledger/payments', body);

/**
 * The QR code (SVG) of one of our invoices, fetched with the session's credentials, as a `data:` URL for an `<img>`
 * (the API's CSP allows `img-src 'self' data:`, not `blob:`). The SVG is never put into the DOM as markup.
 */
export async function fetchInvoiceQr(paymentHash: string, signal?: AbortSignal): Promise<string> {
  const res = await fetch(`/api/ledger/invoices/${encodeURIComponent(paymentHash)}/qr`, { credentials: 'same-origin', headers: { accept: 'image/svg+xml' }, signal });
  if (!res.ok) throw new ApiError(res.status, `http/${res.status}`, `QR code: HTTP ${res.status}`);
  const blob = new Blob([await res.arrayBuffer()], { type: 'image/svg+xml' });
  return blobToDataUrl(blob);
}

/** Reads a blob into a `data:` URL. */
export function blobToDataUrl(blob: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('could not read the QR code'));
    reader.readAsDataURL(blob);
  });
}

/** Same-origin link to the CSV export of a date range (the session cookie authenticates the GET). */
export function ledgerExportUrl(range: { from?: string; to?: string }, format: 'csv' | 'ndjson' = 'csv'): string {
  return `/api/ledger/export${buildQuery({ from: range.from, to: range.to, format })}`;
}

/** A random idempotency key (works outside secure contexts too, where `crypto.randomUUID` is missing). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return `web-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
