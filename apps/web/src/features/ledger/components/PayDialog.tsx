import { useState, type FormEvent } from 'react';
import type { DecodedInvoiceDto } from '@app/contracts';
import { ErrorText } from '../../../components/ui/ErrorText';
import { StatusBadge } from '../../../components/ui/StatusBadge';
import { formatDateTime } from '../../../lib/time';
import { newIdempotencyKey } from '../api/ledger.api';
import { defaultFeeLimitMsat, expiresIn, formatSats, parseSatsToMsat } from '../format';
import { useDecodeInvoice, usePayInvoice } from '../hooks/useLedger';
import { LedgerDialog } from './LedgerDialog';

type PayDialogProps = { onClose: () => void };

type ConfirmStepProps = {
  decoded: DecodedInvoiceDto;
  bolt11: string;
  onBack: () => void;
};

/** Step 2: what the invoice asks for (amount, fee limit, expiry, description, payee) and the confirm button. */
function ConfirmStep({ decoded, bolt11, onBack }: ConfirmStepProps) {
  const pay = usePayInvoice();
  const [amount, setAmount] = useState('');
  const amountMsat = decoded.amountMsat ?? parseSatsToMsat(amount);
  const [fee, setFee] = useState('');
  const feeMsat = fee.trim() === '' ? (amountMsat === null ? null : defaultFeeLimitMsat(amountMsat)) : fee.trim() === '0' ? 0 : parseSatsToMsat(fee);
  const [key] = useState(newIdempotencyKey);
  const blocked = decoded.expired || amountMsat === null || feeMsat === null || pay.isPending || pay.isSuccess;

  const handleConfirm = (e: FormEvent) => {
    e.preventDefault();
    if (blocked || amountMsat === null || feeMsat === null) return;
    pay.mutate({ bolt11, amountMsat: decoded.amountMsat === null ? amountMsat : undefined, maxFeeMsat: feeMsat, idempotencyKey: key });
  };

  return (
    <form className="stack" onSubmit={handleConfirm} data-testid="pay-decoded">
      <dl className="ledger-facts">
        <dt>amount</dt>
        <dd data-testid="pay-decoded-amount">{decoded.amountMsat === null ? 'any (amountless invoice)' : formatSats(decoded.amountMsat)}</dd>
        <dt>fee limit</dt>
        <dd data-testid="pay-decoded-fee">{feeMsat === null ? '–' : formatSats(feeMsat)}</dd>
        <dt>expires</dt>
        <dd data-testid="pay-decoded-expiry">
          {formatDateTime(decoded.expiresAt)} <span className={decoded.expired ? 'error' : 'muted'}>({expiresIn(decoded.expiresAt)})</span>
        </dd>
        <dt>description</dt>
        <dd data-testid="pay-decoded-description" className="ledger-invoice__memo">
          {decoded.description || <span className="muted">none</span>}
        </dd>
        <dt>payee</dt>
        <dd className="mono ledger-tx__clip" title={decoded.payee}>
          {decoded.payee.slice(0, 20)}… {decoded.internal && <span className="badge">internal</span>}
        </dd>
        <dt>hash</dt>
        <dd className="mono ledger-tx__clip">{decoded.paymentHash}</dd>
      </dl>
      {decoded.amountMsat === null && (
        <label className="field">
          <span>amount to pay (sats)</span>
          <input inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} data-testid="pay-amount-input" />
        </label>
      )}
      <label className="field">
        <span>fee limit (sats, blank = {amountMsat === null ? 'default' : formatSats(defaultFeeLimitMsat(amountMsat))})</span>
        <input inputMode="decimal" value={fee} onChange={(e) => setFee(e.target.value)} data-testid="pay-fee-input" />
      </label>
      {decoded.expired && <p className="error">This invoice has expired: it cannot be paid.</p>}
      <ErrorText error={pay.error} testId="pay-error" />
      {pay.data && (
        <p data-testid="pay-result" data-status={pay.data.status}>
          <StatusBadge status={pay.data.status} /> {pay.data.status === 'settled' ? `paid ${formatSats(pay.data.amountMsat)}, fee ${formatSats(pay.data.feeMsat)}` : pay.data.status === 'pending' ? 'in flight: the table updates when it finishes' : (pay.data.failureReason ?? '')}
        </p>
      )}
      <div className="btn-row">
        <button type="submit" className="btn btn--primary" disabled={blocked} data-testid="pay-confirm">
          {pay.isPending ? 'Paying…' : `Pay ${amountMsat === null ? '' : formatSats(amountMsat)}`}
        </button>
        <button type="button" className="btn btn--ghost" onClick={onBack} disabled={pay.isPending}>
          Back
        </button>
      </div>
    </form>
  );
}

/** Pay a bolt11 from the treasury: decode first (nothing is paid), show what it asks for, pay only on confirm. */
export function PayDialog({ onClose }: PayDialogProps) {
  const decode = useDecodeInvoice();
  const [bolt11, setBolt11] = useState('');
  const clean = bolt11.trim().replace(/^lightning:/i, '');

  const handleDecode = (e: FormEvent) => {
    e.preventDefault();
    if (clean) decode.mutate(clean);
  };

  return (
    <LedgerDialog title="Pay invoice" testId="pay-dialog" onClose={onClose}>
      {decode.data ? (
        <ConfirmStep key={decode.data.paymentHash} decoded={decode.data} bolt11={clean} onBack={() => decode.reset()} />
      ) : (
        <form className="stack" onSubmit={handleDecode}>
          <label className="field">
            <span>bolt11 payment request</span>
            <textarea className="ledger-bolt11" rows={4} value={bolt11} onChange={(e) => setBolt11(e.target.value)} placeholder="lnbc…" autoFocus data-testid="pay-bolt11-input" />
          </label>
          <ErrorText error={decode.error} testId="pay-decode-error" />
          <div className="btn-row">
            <button type="submit" className="btn btn--primary" disabled={!clean || decode.isPending} data-testid="pay-decode">
              {decode.isPending ? 'Decoding…' : 'Decode'}
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
