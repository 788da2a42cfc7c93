import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countTokens } from 'gpt-tokenizer';
import type { MemoryEntryDto } from '@app/contracts';
import { cosineSimilarity } from './embedders/embedder';
import { HashEmbedder } from './embedders/hash.embedder';
import { buildContextBlock, formatItem } from './memory-context';
import { FALLBACK_WEIGHTS, fuse, parseQuery } from './memory-ranking';

const entry = (id: string, content: string, over: Partial<MemoryEntryDto> = {}): MemoryEntryDto => ({
  id,
  content,
  type: 'conversation',
  source: 'user',
  agentId: null,
  taskId: null,
  sessionId: null,
  metadata: {},
  createdAt: '2026-01-01T00:00:00.000Z',
  subject: null,
  factKey: null,
  validFrom: null,
  validTo: null,
  supersededBy: null,
  embeddedModels: [],
  deletedAt: null,
  ...over,
});

describe('cosine similarity (prototype assertions)', () => {
  it('is 1 for identical, 0 for orthogonal, -1 for opposite, 0 with a zero vector', () => {
    expect(cosineSimilarity([1, 2, 3], [1, 2, 3])).toBeCloseTo(1);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2], [-1, -2])).toBeCloseTo(-1);
    expect(cosineSimilarity([0, 0], [1, 2])).toBe(0);
  });
});

describe('HashEmbedder (deterministic fallback)', () => {
  const e = new HashEmbedder(384);
  it('gives the same vector in two separate processes (the prototype salted hash() per process)', () => {
    // the child compiles the embedder's own source with swc (the loader jest uses) and prints a vector
    const dir = mkdtempSync(join(tmpdir(), 'mc-hash-'));
    const script = `
      const swc = require('@swc/core'); const fs = require('fs'); const path = require('path');
      fs.mkdirSync(path.join(${JSON.stringify(dir)}, 'embedders'), { recursive: true });
      for (const f of ['memory-text.ts', 'embedders/embedder.ts', 'embedders/hash.embedder.ts']) {
        const out = swc.transformFileSync(path.join(${JSON.stringify(__dirname)}, f), { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } });
        fs.writeFileSync(path.join(${JSON.stringify(dir)}, f.replace(/\.ts$/, '.js')), out.code);
      }
      const { HashEmbedder } = require(path.join(${JSON.stringify(dir)}, 'embedders', 'hash.embedder.js'));
      process.stdout.write(JSON.stringify(Array.from(new HashEmbedder(384).embedOne('The deadline is on Friday'))));`;
    try {
      const a = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: join(__dirname, '..', '..') });
      const here = Array.from(e.embedOne('The deadline is on Friday'));
      expect(here.some((x) => x !== 0)).toBe(true);
      expect(JSON.parse(a)).toEqual(here);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(e.model).toBe('hash-fnv1a-v1-384');
  });
  it('similar texts are closer than unrelated ones; no content word gives the zero vector', () => {
    const a = e.embedOne('painting a sunrise by the lake');
    const b = e.embedOne('she painted the sunrise');
    const c = e.embedOne('quarterly tax filing deadline');
    expect(cosineSimilarity(a, b)).toBeGreaterThan(cosineSimilarity(a, c));
    expect(Array.from(e.embedOne('it is what it is')).every((x) => x === 0)).toBe(true);
  });
});

describe('fusion', () => {
  it('drops a named speaker from the terms and boosts their entries; neighbours share score', () => {
    const p = parseQuery('What did Caroline research?', new Set(['caroline', 'melanie']));
    expect(p.terms).toEqual(['research']);
    expect(p.namedSources).toEqual(['caroline']);
    const ranked = fuse(
      [
        { num: 1, sessionId: 's', source: 'Melanie', bm25: 5, cosine: 0, prev: null, next: 2 },
        { num: 2, sessionId: 's', source: 'Caroline', bm25: 0, cosine: 0, prev: 1, next: null },
        { num: 3, sessionId: 't', source: 'Caroline', bm25: 4, cosine: 0, prev: null, next: null },
      ],
      p.namedSources,
      FALLBACK_WEIGHTS,
      'lexical',
    );
    expect(ranked.map((r) => r.num)).toEqual([3, 1, 2]);
    expect(ranked[2].components.neighbors).toBeCloseTo(0.3);
    expect(ranked[0].components.sourceBoost).toBe(1.5);
  });
});

describe('context block', () => {
  it('counts tokens with the real tokenizer, headers included, skips a long hit and keeps a shorter one', () => {
    const long = entry('L', 'word '.repeat(500));
    const short = entry('S', 'short memory');
    const fact = entry('F', 'The operator prefers dark mode', { type: 'fact', source: 'operator' });
    const b = buildContextBlock([fact], [long, short], 80);
    expect(b.items.map((i) => i.entryId)).toEqual(['F', 'S']);
    expect(b.skipped).toBe(1);
    expect(b.tokens).toBe(countTokens(b.text));
    expect(b.tokens).toBeLessThanOrEqual(80);
    expect(b.text.split('\n')[0]).toBe('Relevant context from memory:');
    expect(buildContextBlock([], [long], 5).text).toBe('');
  });

  it('gives the same block when the line counts come from the memo (second build), item token counts exact', () => {
    const hits = Array.from({ length: 12 }, (_, i) => entry(`H${i}`, `memory number ${i} ${'about the garden '.repeat(i + 1)}`));
    const fact = entry('F', 'The operator prefers dark mode', { type: 'fact', source: 'operator' });
    const first = buildContextBlock([fact], hits, 120);
    const again = buildContextBlock([fact], hits, 120);
    expect(again).toEqual(first);
    expect(first.tokens).toBe(countTokens(first.text));
    for (const it of first.items) {
      const e = [fact, ...hits].find((h) => h.id === it.entryId)!;
      expect(it.tokens).toBe(countTokens(formatItem(e)));
    }
    // a different budget over the same (memoised) lines is still exact
    const small = buildContextBlock([fact], hits, 40);
    expect(small.tokens).toBe(countTokens(small.text));
    expect(small.tokens).toBeLessThanOrEqual(40);
  });
});
