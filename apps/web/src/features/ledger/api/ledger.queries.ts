import { infiniteQueryOptions, keepPreviousData, queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { EMPTY_LEDGER_FILTERS, fetchBalances, fetchInvoice, fetchInvoiceQr, fetchLedgerHead, fetchTransactions, type LedgerFilters } from './ledger.api';

/** Settled transactions read for the balance chart (newest first; the series is anchored to the current balance). */
export const CHART_TRANSACTIONS = 500;

export const ledgerKeys = {
  all: ['ledger'] as const,
  balances: () => ['ledger', 'balances'] as const,
  transactionLists: () => ['ledger', 'transactions'] as const,
  transactions: (f: LedgerFilters, limit: number) => ['ledger', 'transactions', f, limit] as const,
  history: () => ['ledger', 'history'] as const,
  recent: (limit: number) => ['ledger', 'recent', limit] as const,
  invoice: (ref: string) => ['ledger', 'invoice', ref] as const,
  qr: (paymentHash: string) => ['ledger-qr', paymentHash] as const,
};

/**
 * Balances, stamped with the `ledger` channel head read just before them: the live-update baseline (the API's ledger
 * responses carry no headSeq of their own, so the head comes from `/api/events?channel=ledger`).
 */
export const balancesQuery = (enabled = true) =>
  queryOptions({
    queryKey: ledgerKeys.balances(),
    queryFn: async () => {
      const head = await fetchLedgerHead();
      return stampSnapshot({ ...(await fetchBalances()), ...head });
    },
    enabled,
    retry: false,
  });

/** The transactions table: cursor-paged (newest first), the previous rows stay on screen while filters change. */
export const transactionsQuery = (filters: LedgerFilters = EMPTY_LEDGER_FILTERS, limit = 100) =>
  infiniteQueryOptions({
    queryKey: ledgerKeys.transactions(filters, limit),
    queryFn: ({ pageParam }) => fetchTransactions(filters, pageParam, limit),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    placeholderData: keepPreviousData,
    retry: false,
  });

/**
 * Settled transactions for the balance-over-time chart, with the node's settled net read alongside (the series is
 * anchored to it, so both come from one fetch and the chart never mixes an older list with a newer balance).
 */
export const historyQuery = () =>
  queryOptions({
    queryKey: ledgerKeys.history(),
    queryFn: async () => {
      const [page, balances] = await Promise.all([fetchTransactions({ ...EMPTY_LEDGER_FILTERS, status: 'settled' }, null, CHART_TRANSACTIONS), fetchBalances()]);
      return { items: page.items, netMsat: balances.node.netMsat };
    },
    retry: false,
  });

/** The latest invoices and payments (phone view). */
export const recentQuery = (limit: number) => queryOptions({ queryKey: ledgerKeys.recent(limit), queryFn: () => fetchTransactions(EMPTY_LEDGER_FILTERS, null, limit), retry: false });

/** An invoice's QR code as a `data:` URL (immutable per invoice: never refetched). */
export const qrQuery = (paymentHash: string | null) =>
  queryOptions({
    queryKey: ledgerKeys.qr(paymentHash ?? ''),
    queryFn: ({ signal }) => fetchInvoiceQr(paymentHash!, signal),
    enabled: paymentHash !== null,
    staleTime: Infinity,
    gcTime: 5 * 60_000,
    retry: false,
  });

/** One of our invoices (its status follows live events: every ledger event invalidates `ledgerKeys.all`). */
export const invoiceQuery = (ref: string | null) =>
  queryOptions({ queryKey: ledgerKeys.invoice(ref ?? ''), queryFn: () => fetchInvoice(ref!), enabled: ref !== null, retry: false });
