import 'diff2html/bundles/css/diff2html.min.css';
import { useMemo, useState } from 'react';
import { html as diffToHtml } from 'diff2html';
import { ColorSchemeType } from 'diff2html/lib/types';

type DiffViewProps = { diff: string; testId?: string };

/**
 * A unified diff rendered by diff2html (file list, line numbers, word-level change highlighting), line by line or
 * side by side. diff2html escapes every piece of diff text it puts in its HTML (file names, lines, hunk headers:
 * `diffMaxChanges` is left unset so no file takes the unescaped "too big" path); the XSS test in __tests__ checks
 * a hostile diff renders as text.
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
  return (
    <div className="diff-view">
      <div className="btn-row">
        <button type="button" className="btn btn--ghost btn--small" onClick={() => setSideBySide((v) => !v)} data-testid="diff-toggle">
          {sideBySide ? 'Line by line' : 'Side by side'}
        </button>
      </div>
      {/* diff2html output: every diff text in it is HTML-escaped by the library */}
      <div className="diff-view__body" data-testid={testId} dangerouslySetInnerHTML={{ __html: markup }} />
    </div>
  );
}
