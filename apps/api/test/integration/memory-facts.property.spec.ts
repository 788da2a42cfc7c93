import fc from 'fast-check';
import { MemoryService } from '../../src/memory/memory.service';
import { databaseKinds, startTestApp, type TestApp } from '../support/test-app';

/**
 * Property (issue 9): supersede never loses a fact. For any sequence of fact writes over a few (subject, key) pairs,
 * concurrent or not, with non-decreasing validFrom per key: every write is kept in the history, exactly one version
 * per key is open, each closed version ends where its successor starts and points at it, and an as-of query at any
 * version's validFrom answers that version.
 */
describe.each(databaseKinds())('memory facts supersede property (%s)', (db) => {
  let t: TestApp;
  let run = 0;
  beforeAll(async () => {
    t = await startTestApp({}, db);
  });
  afterAll(async () => {
    await t.close();
  });

  it('keeps every version, one open per key, a contiguous validity chain, and as-of answers each version', async () => {
    const mem = t.app.get(MemoryService);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('city', 'job', 'pet'), gapMs: fc.integer({ min: 0, max: 86_400_000 }), text: fc.string({ minLength: 1, maxLength: 30 }) }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.boolean(),
        async (writes, concurrent) => {
          const subject = `subject-${db}-${run++}`;
          let clock = Date.parse('2025-01-01T00:00:00Z');
          const planned = writes.map((w, i) => {
            clock += w.gapMs + 1;
            return { key: w.key, validFrom: new Date(clock).toISOString(), content: `${w.text.trim() || 'x'} #${i}` };
          });
          if (concurrent) {
            // different keys in parallel, each key's writes in order
            const byKey = new Map<string, typeof planned>();
            for (const p of planned) byKey.set(p.key, [...(byKey.get(p.key) ?? []), p]);
            await Promise.all([...byKey.values()].map(async (ps) => {
              for (const p of ps) await mem.setFact({ subject, key: p.key, content: p.content, validFrom: p.validFrom });
            }));
          } else {
            for (const p of planned) await mem.setFact({ subject, key: p.key, content: p.content, validFrom: p.validFrom });
          }
          for (const key of new Set(planned.map((p) => p.key))) {
            const mine = planned.filter((p) => p.key === key);
            const hist = await mem.factHistory(subject, key);
            expect(hist.map((h) => h.content)).toEqual(mine.map((p) => p.content));
            expect(hist.filter((h) => h.validTo === null)).toHaveLength(1);
            for (let i = 0; i < hist.length - 1; i++) {
              expect(hist[i].validTo).toBe(hist[i + 1].validFrom);
              expect(hist[i].supersededBy).toBe(hist[i + 1].id);
            }
            for (let i = 0; i < hist.length; i++) {
              // versions with the same validFrom: the later one wins (the earlier had an empty interval)
              const expected = [...hist].reverse().find((h) => h.validFrom === hist[i].validFrom)!;
              const asOf = (await mem.factsAsOf(hist[i].validFrom!, subject)).filter((f) => f.factKey === key);
              expect(asOf.map((f) => f.id)).toEqual([expected.id]);
            }
          }
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
