import { useEffect, useRef } from 'react';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { CreateInvoiceRequest, EventEnvelope, PayInvoiceRequest } from '@app/contracts';
import { useBaseline, useChannel } from '../../../lib/realtime-react';
import { createInvoice, decodeInvoice, payInvoice, type LedgerFilters } from '../api/ledger.api';
import { balancesQuery, historyQuery, invoiceQuery, ledgerKeys, qrQuery, recentQuery, transactionsQuery } from '../api/ledger.queries';

/** Balances (node formula, treasury, fees, agents); its headSeq is the `ledger` channel baseline. */
export const useLedgerBalances = () => useQuery(balancesQuery());
/** The transactions table's pages (cursor paging). */
export const useLedgerTransactions = (filters: LedgerFilters, limit = 100) => useInfiniteQuery(transactionsQuery(filters, limit));
/** Settled transactions for the balance chart. */
export const useLedgerHistory = () => useQuery(historyQuery());
/** The latest `limit` transactions (phone view). */
export const useRecentLedger = (limit = 8) => useQuery(recentQuery(limit));
/** An invoice's QR code as an image URL (`data:`), null paymentHash = none. */
export const useInvoiceQr = (paymentHash: string | null) => useQuery(qrQuery(paymentHash));

/** One of our invoices by payment_hash (null = none). */
export const useInvoice = (ref: string | null) => useQuery(invoiceQuery(ref));

/** Creates an invoice; balances, lists and the chart refresh (the live event would do it too). */
export function useCreateInvoice() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (body: CreateInvoiceRequest) => createInvoice(body), onSuccess: () => void qc.invalidateQueries({ queryKey: ledgerKeys.all }) });
}

/** Decodes a bolt11 without paying it. */
export const useDecodeInvoice = () => useMutation({ mutationFn: (bolt11: string) => decodeInvoice(bolt11) });

/** Pays a bolt11 (the server answers once settled, failed, or still in flight after its wait). */
export function usePayInvoice() {
  const qc = useQueryClient();
  return useMutation({ mutationFn: (body: PayInvoiceRequest) => payInvoice(body), onSettled: () => void qc.invalidateQueries({ queryKey: ledgerKeys.all }) });
}

/** Ledger event types that change what the page shows (every ledger event does: balances, rows or both). */
export const isLedgerEvent = (e: Pick<EventEnvelope, 'channel' | 'type'>) => e.channel === 'ledger';

/**
 * The ledger feature's one realtime hook (mount once per page, operators and admins only: viewers may not subscribe
 * to `ledger`). Any `invoice.*`, `payment.*` or `hold.*` event after the balances' baseline refetches balances, the
 * chart's history and the transaction lists, coalesced per 200 ms so a burst costs one refetch. A gap refetches too.
 */
export function useLedgerLiveUpdates(): void {
  const qc = useQueryClient();
  const balances = useLedgerBalances();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const sub = useChannel('ledger', {
    onEvents: (events) => {
      if (!events.some(isLedgerEvent) || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void qc.invalidateQueries({ queryKey: ledgerKeys.all });
      }, 200);
    },
    onGap: () => void qc.invalidateQueries({ queryKey: ledgerKeys.all }),
  });
  useBaseline(sub, balances.data);
}
