import { useState, type FormEvent } from 'react';
import type { LedgerTransactionDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatDateTime } from '../../../lib/time';
import { newIdempotencyKey } from '../api/ledger.api';
import { formatSats, parseSatsToMsat } from '../format';
import { useCreateInvoice, useInvoice, useInvoiceQr } from '../hooks/useLedger';
import { CopyButton } from '../../../components/ui/CopyButton';
import { LedgerDialog } from './LedgerDialog';

/** Expiry choices of the dialog (seconds; the API takes 60..604800). */
export const EXPIRY_OPTIONS = [
  { seconds: 600, label: '10 minutes' },
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 604_800, label: '7 days' },
] as const;

type CreateInvoiceDialogProps = { onClose: () => void };

/** Invoice details once created: the QR code (an `<img>` of the fetched SVG), the bolt11 with a copy button, the live status. */
function CreatedInvoice({ invoice }: { invoice: LedgerTransactionDto }) {
  const qr = useInvoiceQr(invoice.paymentHash);
  const live = useInvoice(invoice.paymentHash);
  const status = live.data?.status ?? invoice.status;
  return (
    <div className="ledger-invoice" data-testid="invoice-created" data-hash={invoice.paymentHash}>
      <div className="ledger-invoice__qr">
        {qr.data ? <img src={qr.data} alt="QR code of the invoice" width={240} height={240} data-testid="invoice-qr" /> : <span className="muted small">{qr.isError ? 'QR code unavailable' : 'Loading QR…'}</span>}
      </div>
      <div className="stack">
        <div>
          <strong data-testid="invoice-amount">{formatSats(invoice.amountMsat)}</strong> <StatusBadge status={status} testId="invoice-status" />
        </div>
        {invoice.memo && <div className="ledger-invoice__memo">{invoice.memo}</div>}
        <div className="muted small">expires {formatDateTime(invoice.expiresAt)}</div>
        <textarea className="ledger-bolt11" readOnly value={invoice.bolt11} rows={4} data-testid="invoice-bolt11" onFocus={(e) => e.currentTarget.select()} />
        <div className="btn-row">
          <CopyButton text={invoice.bolt11} testId="invoice-copy" label="Copy bolt11" />
        </div>
        <ErrorText error={qr.error} />
      </div>
    </div>
  );
}

/** Create an invoice to the treasury: amount in sats, memo, expiry; then its QR code and bolt11. */
export function CreateInvoiceDialog({ onClose }: CreateInvoiceDialogProps) {
  const create = useCreateInvoice();
  const [amount, setAmount] = useState('');
  const [memo, setMemo] = useState('');
  const [expiry, setExpiry] = useState<number>(3600);
  const amountMsat = parseSatsToMsat(amount);

  const handleSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (amountMsat === null) return;
    create.mutate({ amountMsat, memo: memo.trim() || undefined, expirySeconds: expiry, idempotencyKey: newIdempotencyKey() });
  };

  return (
    <LedgerDialog title="Create invoice" testId="invoice-dialog" onClose={onClose}>
      {create.data ? (
        <CreatedInvoice invoice={create.data} />
      ) : (
        <form className="stack" onSubmit={handleSubmit}>
          <label className="field">
            <span>amount (sats)</span>
            <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} placeholder="e.g. 1000" autoFocus data-testid="invoice-amount-input" />
          </label>
          {amount !== '' && amountMsat === null && <span className="error small">a positive amount in sats (up to 3 decimals)</span>}
          <label className="field">
            <span>memo</span>
            <input value={memo} onChange={(e) => setMemo(e.target.value)} maxLength={639} placeholder="what it is for" data-testid="invoice-memo-input" />
          </label>
          <label className="field">
            <span>expires after</span>
            <select value={expiry} onChange={(e) => setExpiry(Number(e.target.value))} data-testid="invoice-expiry-input">
              {EXPIRY_OPTIONS.map((o) => (
                <option key={o.seconds} value={o.seconds}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
          <ErrorText error={create.error} testId="invoice-error" />
          <div className="btn-row">
            <button type="submit" className="btn btn--primary" disabled={amountMsat === null || create.isPending} data-testid="invoice-submit">
              {create.isPending ? 'Creating…' : 'Create invoice'}
            </button>
            <button type="button" className="btn btn--ghost" onClick={onClose}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </LedgerDialog>
  );
}
