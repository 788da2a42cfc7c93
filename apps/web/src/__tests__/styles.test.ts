import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * ADR 0050 (styles that can grow): shared tokens + primitives in `src/styles/`, each feature's look in
 * `features/<feature>/<feature>.css` imported by that feature only. These checks keep the split honest:
 * a class used in a component is defined somewhere, design tokens are declared in one file, and no
 * feature reaches into another feature's stylesheet.
 */
const SRC = join(__dirname, '..');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'node_modules' ? [] : walk(p);
    return [p];
  });
}

const files = walk(SRC);
const rel = (p: string) => relative(SRC, p).split(sep).join('/');
const cssFiles = files.filter((f) => f.endsWith('.css') && !f.endsWith('.module.css'));
const codeFiles = files.filter((f) => /\.(tsx|ts)$/.test(f) && !f.includes('__tests__'));
const stripComments = (css: string) => css.replace(/\/\*[\s\S]*?\*\//g, '');

/** Class selectors defined by a stylesheet (`.foo`, `.foo__bar--baz`). */
function definedClasses(css: string): Set<string> {
  const out = new Set<string>();
  for (const m of stripComments(css).matchAll(/\.(-?[_a-zA-Z][\w-]*)/g)) out.add(m[1]);
  return out;
}

/** Static class names a component writes: `className="a b"` and string/template literals inside `className={...}`. */
export function usedClasses(source: string): string[] {
  const out: string[] = [];
  const literal = /'([^'\n]*)'|"([^"\n]*)"|`([^`]*)`/g;
  let i = 0;
  while ((i = source.indexOf('className=', i)) !== -1) {
    i += 'className='.length;
    let expr: string;
    if (source[i] === '"') {
      const end = source.indexOf('"', i + 1);
      expr = source.slice(i, end + 1);
      i = end + 1;
    } else if (source[i] === '{') {
      let depth = 0;
      let j = i;
      for (; j < source.length; j++) {
        if (source[j] === '{') depth++;
        else if (source[j] === '}' && --depth === 0) break;
      }
      expr = source.slice(i + 1, j);
      i = j + 1;
    } else continue;
    for (const m of expr.matchAll(literal)) {
      if (/[=!]=\s*$/.test(expr.slice(0, m.index))) continue; // a compared value (`s === 'done' ? ...`), not a class
      const text = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\$\{[^}]*\}/g, '\u0000');
      for (const token of text.split(/\s+/)) if (token && !token.includes('\u0000')) out.push(token);
    }
  }
  return out;
}

describe('stylesheets (ADR 0050)', () => {
  it('the entry stylesheet only imports the shared layers, in order', () => {
    const entry = stripComments(readFileSync(join(SRC, 'styles.css'), 'utf8')).trim().split('\n');
    expect(entry).toEqual(["@import './styles/tokens.css';", "@import './styles/base.css';", "@import './styles/primitives.css';"]);
  });

  it('every static class name used by a component is defined in a stylesheet', () => {
    const defined = new Set(cssFiles.flatMap((f) => [...definedClasses(readFileSync(f, 'utf8'))]));
    const missing = codeFiles.flatMap((f) =>
      usedClasses(readFileSync(f, 'utf8'))
        .filter((c) => !defined.has(c))
        .map((c) => `${rel(f)}: .${c}`),
    );
    expect(missing).toEqual([]);
  });

  it('design tokens are declared only in styles/tokens.css, and every var() used is declared there', () => {
    const tokens = stripComments(readFileSync(join(SRC, 'styles/tokens.css'), 'utf8'));
    const declared = new Set([...tokens.matchAll(/(--[\w-]+)\s*:/g)].map((m) => m[1]));
    const strays: string[] = [];
    const undeclared: string[] = [];
    for (const f of cssFiles) {
      const css = stripComments(readFileSync(f, 'utf8'));
      if (rel(f) !== 'styles/tokens.css') for (const m of css.matchAll(/(--[\w-]+)\s*:/g)) strays.push(`${rel(f)}: ${m[1]}`);
      for (const m of css.matchAll(/var\((--[\w-]+)/g)) if (!declared.has(m[1])) undeclared.push(`${rel(f)}: ${m[1]}`);
    }
    expect({ strays, undeclared }).toEqual({ strays: [], undeclared: [] });
  });

  it('a feature stylesheet is imported by its own feature and by no other feature', () => {
    const problems: string[] = [];
    for (const f of cssFiles.filter((c) => rel(c).startsWith('features/'))) {
      const feature = rel(f).split('/')[1];
      const name = f.split(sep).pop()!;
      const importers = codeFiles.filter((c) => readFileSync(c, 'utf8').includes(`/${name}'`) || readFileSync(c, 'utf8').includes(`'./${name}'`));
      if (importers.length === 0) problems.push(`${rel(f)} is imported by nothing`);
      for (const c of importers) {
        const r = rel(c);
        if (r.startsWith('features/') && r.split('/')[1] !== feature) problems.push(`${r} imports ${rel(f)}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the class-name scanner reads literals, conditionals and templates', () => {
    expect(usedClasses(`<a className="btn btn--small" /><b className={x === 'low' ? 'bid bid--lowest' : "bid"} /><c className={\`badge badge--\${s} x\`} />`)).toEqual([
      'btn',
      'btn--small',
      'bid',
      'bid--lowest',
      'bid',
      'badge',
      'x',
    ]);
  });
});
