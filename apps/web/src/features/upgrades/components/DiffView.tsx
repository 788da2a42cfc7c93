import 'diff2html/bundles/css/diff2html.min.css';
import { useEffect, useMemo, useRef, useState } from 'react';
import { html as diffToHtml } from 'diff2html';
import { ColorSchemeType } from 'diff2html/lib/types';
import { Diff2HtmlUI } from 'diff2html/lib-esm/ui/js/diff2html-ui-slim.js';

type DiffViewProps = { diff: string; testId?: string };

/**
 * A unified diff rendered by diff2html (file list, line numbers, word-level change highlighting), line by line or
 * side by side. diff2html escapes every piece of diff text it puts in its HTML (file names, lines, hunk headers:
 * `diffMaxChanges` is left unset so no file takes the unescaped "too big" path); the XSS test in __tests__ checks
 * a hostile diff renders as text.
 *
 * Syntax highlighting: after React puts the escaped markup in, diff2html's own UI (`Diff2HtmlUI`, slim build with
 * highlight.js' common languages, language from the file extension) re-renders each code line from its
 * `textContent` through highlight.js, whose output escapes the text again; the hostile-diff test runs with it on.
 * Binary files come through as git's "Binary files ... differ" line: listed, never shown.
 */
export function DiffView({ diff, testId = 'diff-view' }: DiffViewProps) {
  const [sideBySide, setSideBySide] = useState(false);
  const markup = useMemo(
    () =>
      diffToHtml(diff, {
        drawFileList: true,
        matching: 'lines',
        outputFormat: sideBySide ? 'side-by-side' : 'line-by-line',
        colorScheme: ColorSchemeType.DARK,
        renderNothingWhenEmpty: false,
      }),
    [diff, sideBySide],
  );
  const bodyRef = useRef<HTMLDivElement>(null);
  const [highlighted, setHighlighted] = useState(false);
  useEffect(() => {
    const el = bodyRef.current;
    if (!el) return;
    setHighlighted(false);
    // reads the markup already in `el` (no diff input) and highlights its code lines in place
    new Diff2HtmlUI(el, undefined, { highlight: true }).highlightCode();
    setHighlighted(true);
  }, [markup]);
  return (
    <div className="diff-view">
      <div className="btn-row">
        <button type="button" className="btn btn--ghost btn--small" onClick={() => setSideBySide((v) => !v)} data-testid="diff-toggle">
          {sideBySide ? 'Line by line' : 'Side by side'}
        </button>
      </div>
      {/* diff2html output: every diff text in it is HTML-escaped by the library */}
      <div className="diff-view__body" data-testid={testId} data-highlighted={highlighted ? 'true' : 'false'} ref={bodyRef} dangerouslySetInnerHTML={{ __html: markup }} />
    </div>
  );
}
