import type { EventEnvelope } from '@app/contracts';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { canonicalEventRow, chainHash, GENESIS_HASH } from './event-hash';

/** Any JSON value a producer can store as event data (what JSON.parse of the stored text gives back). */
const jsonObject = fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue(), { maxKeys: 8 }).map((o) => JSON.parse(JSON.stringify(o)) as Record<string, unknown>);
const nullableId = fc.option(fc.string({ maxLength: 40 }), { nil: null });

const envelope = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  id: fc.uuid(),
  type: fc.constantFrom('task.posted', 'system.info', 'auth.login_failed'),
  source: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
  channel: fc.constantFrom('swarm', 'system', 'security'),
  taskId: nullableId,
  agentId: nullableId,
  data: jsonObject,
  createdAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
}) as fc.Arbitrary<EventEnvelope>;

describe('event hash chain encoding', () => {
  it('canonicalEventRow is byte-identical to canonicalize() of the whole row (RFC 8785 JCS)', () => {
    fc.assert(
      fc.property(envelope, (e) => {
        const { seq, id, type, source, channel, taskId, agentId, data, createdAt } = e;
        expect(canonicalEventRow(e)).toBe(canonicalize({ seq, id, type, source, channel, taskId, agentId, data, createdAt }));
      }),
      { numRuns: 2000 },
    );
  });

  it('the encoding does not depend on key order in data, and different data gives a different encoding', () => {
    const base = { seq: 7, id: '00000000-0000-4000-8000-000000000000', type: 'system.info', source: 's', channel: 'system', taskId: null, agentId: null, createdAt: '2026-12-02T00:00:00.000Z' };
    const a = canonicalEventRow({ ...base, data: { b: 1, a: { y: [1, 'x'], x: null } } } as EventEnvelope);
    const b = canonicalEventRow({ ...base, data: { a: { x: null, y: [1, 'x'] }, b: 1 } } as EventEnvelope);
    expect(a).toBe(b);
    expect(a).toBe('{"agentId":null,"channel":"system","createdAt":"2026-12-02T00:00:00.000Z","data":{"a":{"x":null,"y":[1,"x"]},"b":1},"id":"00000000-0000-4000-8000-000000000000","seq":7,"source":"s","taskId":null,"type":"system.info"}');
    expect(canonicalEventRow({ ...base, data: { b: 2 } } as EventEnvelope)).not.toBe(a);
  });

  it('chainHash is sha256(prev || "\\n" || canonical row) in lowercase hex', () => {
    fc.assert(
      fc.property(envelope, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (e, prev) => {
        const expected = createHash('sha256').update(prev).update('\n').update(canonicalEventRow(e)).digest('hex');
        expect(chainHash(prev, e)).toBe(expected);
      }),
      { numRuns: 300 },
    );
    expect(chainHash(GENESIS_HASH, { seq: 1, id: 'x', type: 'system.info', source: 's', channel: 'system', taskId: null, agentId: null, data: {}, createdAt: 'c' } as EventEnvelope)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses data that JCS cannot encode', () => {
    expect(() => canonicalEventRow({ seq: 1, data: { x: Number.NaN } } as unknown as EventEnvelope)).toThrow(/NaN/);
  });
});
