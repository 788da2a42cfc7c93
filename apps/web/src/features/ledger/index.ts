/** Ledger feature: balances, balance chart, agent earnings, transactions, invoice/pay dialogs, export, phone list. */
export { BalanceCards } from './components/BalanceCards';
export { BalanceChart } from './components/BalanceChart';
export { AgentEarnings } from './components/AgentEarnings';
export { TransactionsTable } from './components/TransactionsTable';
export { TransactionFilters } from './components/TransactionFilters';
export { CreateInvoiceDialog } from './components/CreateInvoiceDialog';
export { PayDialog } from './components/PayDialog';
export { ExportRange } from './components/ExportRange';
export { RecentPayments } from './components/RecentPayments';
export { EMPTY_LEDGER_FILTERS, type LedgerFilters } from './api/ledger.api';
export { useLedgerBalances, useLedgerHistory, useLedgerLiveUpdates, useLedgerTransactions } from './hooks/useLedger';
