import { EVENT_SPECS, EVENT_TYPES, MOBILE_EVENT_TYPES, type EventType } from '@app/contracts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * docs/events.md and the catalogue (libs/contracts EVENT_SPECS) cannot drift: every type has exactly one row, under
 * a heading that names its channel, and the page names no type the catalogue does not have.
 */
describe('docs/events.md against the event catalogue', () => {
  const page = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'events.md'), 'utf8');
  const rows = new Map<string, { channel: string | null; mobile: boolean; count: number }>();
  let channel: string | null = null;
  let inTypes = false;
  for (const line of page.split('\n')) {
    if (line.startsWith('## ')) inTypes = line.startsWith('## Event types');
    if (line.startsWith('### ')) channel = /\(channel `([a-z]+)`/.exec(line)?.[1] ?? null;
    const m = inTypes ? /^\| `([a-z_]+\.[a-z_]+)` \|/.exec(line) : null;
    if (!m) continue;
    const prev = rows.get(m[1]);
    rows.set(m[1], { channel, mobile: /\|\s*yes\s*\|\s*$/.test(line), count: (prev?.count ?? 0) + 1 });
  }

  it('documents every catalogue type once, under its channel', () => {
    const problems: string[] = [];
    for (const type of EVENT_TYPES) {
      const row = rows.get(type);
      if (!row) problems.push(`${type}: missing`);
      else if (row.count !== 1) problems.push(`${type}: ${row.count} rows`);
      else if (row.channel !== EVENT_SPECS[type].channel) problems.push(`${type}: documented under channel ${row.channel}, catalogue says ${EVENT_SPECS[type].channel}`);
    }
    expect(problems).toEqual([]);
  });

  it('documents no type the catalogue lacks', () => {
    expect([...rows.keys()].filter((t) => !(EVENT_TYPES as string[]).includes(t))).toEqual([]);
  });

  it('marks the mobile digest types where the page has a mobile column', () => {
    const marked = [...rows.entries()].filter(([, r]) => r.mobile).map(([t]) => t as EventType);
    expect(marked.filter((t) => !MOBILE_EVENT_TYPES.includes(t))).toEqual([]);
  });
});
