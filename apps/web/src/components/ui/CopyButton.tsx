import { useEffect, useRef, useState } from 'react';

type CopyButtonProps = { text: string; testId?: string; label?: string };

/** Copies `text` to the clipboard (falls back to a selected hidden textarea when the Clipboard API is unavailable). */
export function CopyButton({ text, testId, label = 'Copy' }: CopyButtonProps) {
  const [done, setDone] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const handleCopy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      const ta = document.createElement('textarea');
      ta.value = text;
      document.body.appendChild(ta);
      ta.select();
      document.execCommand('copy');
      ta.remove();
    }
    setDone(true);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" className="btn btn--small" onClick={() => void handleCopy()} data-testid={testId}>
      {done ? 'Copied' : label}
    </button>
  );
}
