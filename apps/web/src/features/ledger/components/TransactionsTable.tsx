import '../ledger.css';
import { useEffect, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { LedgerTransactionDto } from '@app/contracts';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatDateTime } from '../../../lib/time';
import { directionLabel, formatSats } from '../format';

type TransactionsTableProps = {
  /** Newest first (every loaded page, concatenated). */
  rows: readonly LedgerTransactionDto[];
  hasMore: boolean;
  loadingMore: boolean;
  loading?: boolean;
  /** Load the next page by itself when scrolled near the end (off after a failed page: the button retries). */
  autoLoad?: boolean;
  onLoadMore: () => void;
  /** Row height in px. */
  rowHeight?: number;
};

/**
 * The virtualised transactions table (only the visible rows are in the DOM). Scrolling near the end loads the next
 * cursor page; a button does the same. Memo, agent and task are rendered as text.
 */
export function TransactionsTable({ rows, hasMore, loadingMore, loading = false, autoLoad = true, onLoadMore, rowHeight = 36 }: TransactionsTableProps) {
  const parentRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => parentRef.current,
    estimateSize: () => rowHeight,
    overscan: 10,
    getItemKey: (index) => rows[index].id,
    initialRect: { width: 1000, height: 420 },
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1].index : -1;
  useEffect(() => {
    if (autoLoad && hasMore && !loadingMore && lastIndex >= rows.length - 5) onLoadMore();
  }, [autoLoad, hasMore, loadingMore, lastIndex, rows.length, onLoadMore]);

  return (
    <div className="ledger-tx" data-testid="ledger-transactions" data-rows={rows.length}>
      <div className="ledger-tx__row ledger-tx__row--head" role="row">
        <span>time</span>
        <span>dir</span>
        <span>status</span>
        <span className="ledger-num">amount</span>
        <span className="ledger-num">fee</span>
        <span>memo</span>
        <span>account</span>
        <span>hash</span>
      </div>
      <div className="ledger-tx__body" ref={parentRef} role="rowgroup" aria-busy={loading}>
        {rows.length === 0 && <p className="muted ledger-tx__empty">{loading ? 'Loading transactions…' : 'No transactions match.'}</p>}
        <div className="ledger-tx__inner" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((v) => {
            const t = rows[v.index];
            return (
              <div
                key={v.key}
                className="ledger-tx__row"
                role="row"
                style={{ height: v.size, transform: `translateY(${v.start}px)` }}
                data-testid="ledger-tx-row"
                data-hash={t.paymentHash}
                data-type={t.type}
                data-status={t.status}
              >
                <span className="mono nowrap">{formatDateTime(t.createdAt)}</span>
                <span className="nowrap">{directionLabel(t)}</span>
                <span>
                  <StatusBadge status={t.status} />
                </span>
                <span className="ledger-num mono">{formatSats(t.amountMsat, { unit: false })}</span>
                <span className="ledger-num mono">{t.feeMsat ? formatSats(t.feeMsat, { unit: false }) : ''}</span>
                <span className="ledger-tx__memo" title={t.failureReason ?? t.memo}>
                  {t.memo}
                  {t.failureReason ? ` · ${t.failureReason}` : ''}
                </span>
                <span className="mono ledger-tx__clip">{t.agentId ?? t.accountId}</span>
                <span className="mono" title={t.paymentHash}>
                  {t.paymentHash.slice(0, 10)}
                </span>
              </div>
            );
          })}
        </div>
      </div>
      <div className="btn-row ledger-tx__foot">
        <span className="muted small">
          {rows.length} loaded{hasMore ? '' : ' · end'}
        </span>
        {hasMore && (
          <button type="button" className="btn btn--small" disabled={loadingMore} onClick={onLoadMore} data-testid="ledger-load-more">
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        )}
      </div>
    </div>
  );
}
