import { useCallback, useState } from 'react';
import { Navigate } from 'react-router-dom';
import { ErrorText } from '../components/ui/ErrorText';
import { useCanOperate } from '../features/auth/hooks/useAuth';
import {
  AgentEarnings,
  BalanceCards,
  BalanceChart,
  CreateInvoiceDialog,
  EMPTY_LEDGER_FILTERS,
  ExportRange,
  PayDialog,
  TransactionFilters,
  TransactionsTable,
  useLedgerBalances,
  useLedgerHistory,
  useLedgerLiveUpdates,
  useLedgerTransactions,
  type LedgerFilters,
} from '../features/ledger';

/**
 * Ledger (`/ledger`, operators and admins): balance cards, the balance over time, per-agent earnings, the filtered
 * transactions table (cursor paging, virtualised), create-invoice and pay dialogs, the CSV export of a date range.
 * Live through the privileged `ledger` channel. Viewers are sent back to Live (the API refuses them anyway).
 */
export function LedgerPage() {
  const canOperate = useCanOperate();
  if (!canOperate) return <Navigate to="/" replace />;
  return <LedgerView />;
}

type OpenDialog = 'invoice' | 'pay' | null;

function LedgerView() {
  useLedgerLiveUpdates();
  const balances = useLedgerBalances();
  const history = useLedgerHistory();
  const [filters, setFilters] = useState<LedgerFilters>(EMPTY_LEDGER_FILTERS);
  const tx = useLedgerTransactions(filters);
  const [dialog, setDialog] = useState<OpenDialog>(null);
  const rows = tx.data?.pages.flatMap((p) => p.items) ?? [];
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = tx;
  const handleLoadMore = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) void fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);
  const handleClose = useCallback(() => setDialog(null), []);

  return (
    <div data-testid="ledger-page">
      <header className="ledger-header">
        <h1>Ledger</h1>
        <span className="muted small">amounts in sats · {balances.isFetching ? 'refreshing…' : 'live'}</span>
        <div className="btn-row">
          <button type="button" className="btn btn--primary" onClick={() => setDialog('invoice')} data-testid="ledger-create-invoice">
            Create invoice
          </button>
          <button type="button" className="btn" onClick={() => setDialog('pay')} data-testid="ledger-pay">
            Pay invoice
          </button>
        </div>
      </header>
      <div className="ledger">
        <div className="page-stack">
          <section className="panel">
            <h2>Balance</h2>
            <ErrorText error={balances.error} />
            <BalanceCards balances={balances.data} loading={balances.isPending} />
          </section>
          <section className="panel">
            <h2>Balance over time</h2>
            <ErrorText error={history.error} />
            <BalanceChart transactions={history.data?.items} currentNetMsat={history.data?.netMsat} />
          </section>
          <section className="panel">
            <h2>Transactions</h2>
            <TransactionFilters value={filters} onApply={setFilters} />
            <ErrorText error={tx.error} />
            <TransactionsTable rows={rows} hasMore={hasNextPage} loadingMore={isFetchingNextPage} loading={tx.isPending} autoLoad={!tx.isFetchNextPageError} onLoadMore={handleLoadMore} />
          </section>
        </div>
        <div className="page-stack">
          <section className="panel">
            <h2>Agent earnings</h2>
            <AgentEarnings agents={balances.data?.agents} />
          </section>
          <section className="panel">
            <h2>Export</h2>
            <p className="muted small">Every transaction created in the range (to is exclusive), oldest first, amounts in msat.</p>
            <ExportRange />
          </section>
        </div>
      </div>
      {dialog === 'invoice' && <CreateInvoiceDialog onClose={handleClose} />}
      {dialog === 'pay' && <PayDialog onClose={handleClose} />}
    </div>
  );
}
