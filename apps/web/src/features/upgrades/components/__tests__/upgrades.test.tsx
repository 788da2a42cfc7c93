import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render } from '@testing-library/react';
import type { EventEnvelope, UpgradeLogsDto } from '@app/contracts';
import { appendOutput } from '../../hooks/useUpgrades';
import { DiffView } from '../DiffView';

const PAYLOAD = '<img src=x onerror="window.__pwned=true"><script>window.__pwned=true</script>';

/** A diff whose file name, hunk context and lines all carry markup. */
const HOSTILE_DIFF = `diff --git a/evil<b>x</b>.txt b/evil<b>x</b>.txt
index 1111111..2222222 100644
--- a/evil<b>x</b>.txt
+++ b/evil<b>x</b>.txt
@@ -1,2 +1,2 @@ function ${PAYLOAD}
 keep ${PAYLOAD}
-old ${PAYLOAD}
+new ${PAYLOAD}
`;

afterEach(cleanup);

describe('DiffView (diff2html)', () => {
  it('renders file names and lines of a hostile diff as text, in both layouts', () => {
    const { getByTestId } = render(<DiffView diff={HOSTILE_DIFF} />);
    for (let i = 0; i < 2; i++) {
      const body = getByTestId('diff-view');
      expect(body.querySelector('img, script, b')).toBeNull();
      expect(body.textContent).toContain('new <img src=x onerror="window.__pwned=true">');
      expect(body.textContent).toContain('evil<b>x</b>.txt');
      expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
      fireEvent.click(getByTestId('diff-toggle'));
    }
  });

  it('shows added and deleted lines with diff2html markup', () => {
    const { getByTestId } = render(<DiffView diff={`diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-before\n+after\n`} />);
    const body = getByTestId('diff-view');
    const text = (sel: string) => [...body.querySelectorAll(sel)].map((el) => el.textContent).join(' ');
    expect(text('.d2h-ins')).toContain('after');
    expect(text('.d2h-del')).toContain('before');
    expect(text('.d2h-ins')).not.toContain('before');
  });
});

describe('DiffView syntax highlighting (diff2html + highlight.js)', () => {
  const TS_DIFF = `diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-const before = 1;\n+export function after(): string { return 'x'; }\n`;

  it('highlights code lines by the file extension', () => {
    const { getByTestId } = render(<DiffView diff={TS_DIFF} />);
    const body = getByTestId('diff-view');
    expect(body.getAttribute('data-highlighted')).toBe('true');
    expect(body.querySelector('.d2h-code-line-ctn.hljs')).not.toBeNull();
    expect([...body.querySelectorAll('.hljs-keyword')].map((e) => e.textContent)).toEqual(expect.arrayContaining(['export', 'function', 'return']));
    expect(body.querySelector('.d2h-ins .hljs-string')?.textContent).toBe("'x'");
  });

  it('keeps a hostile diff as text after highlighting (a .ts and an .html file)', () => {
    const hostile = `diff --git a/x.ts b/x.ts\n--- a/x.ts\n+++ b/x.ts\n@@ -1 +1 @@\n-const a = '${PAYLOAD}';\n+const b = "${PAYLOAD.replace(/"/g, "'")}";\ndiff --git a/p.html b/p.html\n--- a/p.html\n+++ b/p.html\n@@ -1 +1 @@\n-<p>old</p>\n+${PAYLOAD}\n`;
    const { getByTestId } = render(<DiffView diff={hostile} />);
    const body = getByTestId('diff-view');
    expect(body.getAttribute('data-highlighted')).toBe('true');
    expect(body.querySelector('img, script, p')).toBeNull();
    expect(body.textContent).toContain('<img src=x onerror=');
    expect((window as { __pwned?: boolean }).__pwned).toBeUndefined();
  });

  it('lists a binary file without showing its content', () => {
    const bin = `diff --git a/assets/logo.png b/assets/logo.png\nindex 1111111..2222222 100644\nBinary files a/assets/logo.png and b/assets/logo.png differ\n`;
    const { getByTestId } = render(<DiffView diff={bin} />);
    const body = getByTestId('diff-view');
    expect(body.textContent).toContain('assets/logo.png');
    expect(body.textContent).toMatch(/Binary file/);
    expect(body.querySelectorAll('.d2h-ins, .d2h-del')).toHaveLength(0);
  });
});

describe('appendOutput', () => {
  const logs: UpgradeLogsDto = { id: 'u', attempt: 1, testOutput: 'héllo ', testOutputTruncated: false, healthOutput: '', exitCode: null, headSeq: 1 };
  const ev = (data: Record<string, unknown>) => ({ type: 'upgrade.test_output', data }) as unknown as EventEnvelope;

  it('appends a chunk that continues the output at its byte offset (UTF-8)', () => {
    const r = appendOutput(logs, ev({ attempt: 1, offset: 7, chunk: 'world', truncated: false }));
    expect(r).toEqual({ ok: true, logs: { ...logs, testOutput: 'héllo world' } });
  });

  it('ignores chunks it already has and asks for a refetch on a hole or a newer attempt', () => {
    expect(appendOutput(logs, ev({ attempt: 1, offset: 0, chunk: 'héllo', truncated: false }))).toEqual({ ok: true, logs });
    expect(appendOutput(logs, ev({ attempt: 1, offset: 20, chunk: 'x', truncated: false })).ok).toBe(false);
    expect(appendOutput(logs, ev({ attempt: 2, offset: 0, chunk: 'x', truncated: false })).ok).toBe(false);
    expect(appendOutput(logs, ev({ attempt: 0, offset: 0, chunk: 'x', truncated: false })).ok).toBe(true);
  });
});
