import '../ledger.css';
import { useEffect, useId, type ReactNode } from 'react';

type LedgerDialogProps = { title: string; testId: string; onClose: () => void; children: ReactNode };

/** A modal dialog (overlay, Escape or the close button closes it); the content is plain React. */
export function LedgerDialog({ title, testId, onClose, children }: LedgerDialogProps) {
  const titleId = useId();
  useEffect(() => {
    const handleKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('keydown', handleKey);
    return () => window.removeEventListener('keydown', handleKey);
  }, [onClose]);
  return (
    <div className="ledger-dialog__backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className="ledger-dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid={testId}>
        <div className="panel__title-row">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="btn btn--ghost btn--small" onClick={onClose} aria-label="Close" data-testid={`${testId}-close`}>
            ✕
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
