import type { MemoryContextItem, MemoryEntryDto } from '@app/contracts';
import type * as GptTokenizer from 'gpt-tokenizer';

let tokenizer: typeof GptTokenizer | undefined;

/**
 * Tokens of `text` in gpt-tokenizer's default encoding (o200k_base). The package is required on first use: its
 * encoding tables are ~15 MB of heap (~70 MB of RSS while compiling), which a server that never builds a context
 * block should not carry.
 */
function countTokens(text: string): number {
  tokenizer ??= require('gpt-tokenizer') as typeof GptTokenizer; // eslint-disable-line @typescript-eslint/no-require-imports
  return tokenizer.countTokens(text);
}

/** Characters of keys kept by the line-count memo before it is emptied (about 8 MB of strings). */
const LINE_MEMO_MAX_CHARS = 4_000_000;
const lineMemo = new Map<string, number>();
let lineMemoChars = 0;

/**
 * countTokens of one item's text (a formatted line, with its separators and headers), memoised by the exact string:
 * a pure function of its input, so the memo can never be stale (an entry's line is built from fields that never
 * change: id, source, createdAt, content); the same memories recur in many prompts. Bounded by LINE_MEMO_MAX_CHARS.
 */
function countLineTokens(text: string): number {
  const hit = lineMemo.get(text);
  if (hit !== undefined) return hit;
  const n = countTokens(text);
  if (lineMemoChars + text.length > LINE_MEMO_MAX_CHARS) {
    lineMemo.clear();
    lineMemoChars = 0;
  }
  lineMemo.set(text, n);
  lineMemoChars += text.length;
  return n;
}

export const CONTEXT_HEADER = 'Relevant context from memory:';
const FACTS_HEADER = 'Known facts:';
const HITS_HEADER = 'Related memories:';

/** One line of the block: `- [<entry id> · <source> · <YYYY-MM-DD>] <content>` (newlines in content flattened). */
export function formatItem(e: MemoryEntryDto): string {
  const content = e.content.replace(/\s+/g, ' ').trim();
  return `- [${e.id} · ${e.source} · ${e.createdAt.slice(0, 10)}] ${content}`;
}

/**
 * Builds a context block within `maxTokens` (gpt-tokenizer, the o200k_base encoding) counting the header, section
 * headers and newlines. Pinned facts come first, then hits in rank order; an item that does not fit is skipped and
 * later (shorter) ones are still tried. Returns '' when nothing fits or nothing matched.
 */
export function buildContextBlock(
  pinned: readonly MemoryEntryDto[],
  hits: readonly MemoryEntryDto[],
  maxTokens: number,
): { text: string; tokens: number; items: MemoryContextItem[]; skipped: number } {
  const lines: string[] = [];
  const items: MemoryContextItem[] = [];
  const itemLines: number[] = [];
  let skipped = 0;
  let used = 0;
  // Per-line counts (a newline starts a new pre-token in o200k/cl100k, so the sum matches the whole text up to a
  // token or so); the exact count of the final text is checked below and the tail trimmed if it is over.
  const cost = (add: string[]): number => countLineTokens((lines.length > 0 ? '\n' : '') + add.join('\n'));
  const trySection = (header: string, entries: readonly MemoryEntryDto[], isPinned: boolean) => {
    let headerAdded = false;
    for (const e of entries) {
      const line = formatItem(e);
      const add = headerAdded ? [line] : lines.length === 0 ? [CONTEXT_HEADER, header, line] : [header, line];
      const c = cost(add);
      if (used + c > maxTokens) {
        skipped++;
        continue;
      }
      lines.push(...add);
      used += c;
      headerAdded = true;
      itemLines.push(lines.length);
      items.push({ entryId: e.id, source: e.source, createdAt: e.createdAt, type: e.type, tokens: countLineTokens(line), pinned: isPinned });
    }
  };
  trySection(FACTS_HEADER, pinned, true);
  trySection(HITS_HEADER, hits, false);
  let text = lines.join('\n');
  let tokens = text ? countTokens(text) : 0;
  while (items.length > 0 && tokens > maxTokens) {
    items.pop();
    itemLines.pop();
    skipped++;
    const keep = itemLines.length > 0 ? itemLines[itemLines.length - 1] : 0;
    lines.length = keep;
    text = lines.join('\n');
    tokens = text ? countTokens(text) : 0;
  }
  return { text, tokens, items, skipped };
}
