import { hash } from 'node:crypto';
import fc from 'fast-check';
import type { DataSource } from 'typeorm';

/**
 * OpenAPI-driven fuzzing of the REST surface (issue 11, section 4). Cases are generated with fast-check from the
 * live `/api/docs-json`: every operation, as each principal, with valid-ish (schema-shaped) or malformed path
 * parameters, query strings, bodies and headers. Each case is sent over real HTTP and checked:
 * - no 5xx;
 * - every 4xx body is exactly `{ statusCode, code, message }` (code `domain/reason`, statusCode = the HTTP status),
 *   plus the contract's optional `details` (ErrorResponse in libs/contracts);
 * - every response carries the security headers (`x-content-type-options: nosniff`);
 * - a rejected request (4xx) changed no row of any table (the event log without its `router` channel, whose probes
 *   and metrics are written by timers, not by requests);
 * - no known secret (admin password, API keys, their sha256, argon2 hashes) appears in any response body.
 */

export type Who = 'admin' | 'operator' | 'viewer' | 'agent' | 'anonymous';
export const PRINCIPALS: Who[] = ['admin', 'operator', 'viewer', 'agent', 'anonymous'];

type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  format?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  nullable?: boolean;
  additionalProperties?: boolean | Schema;
  example?: unknown;
};

interface OpenApiDoc {
  paths: Record<string, Record<string, OperationObject>>;
  components?: { schemas?: Record<string, Schema> };
}
interface OperationObject {
  operationId?: string;
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: Schema }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  security?: unknown[];
}

/** One REST operation of the document. */
export interface Operation {
  method: string;
  path: string;
  id: string;
  pathParams: { name: string; schema: Schema }[];
  queryParams: { name: string; required: boolean; schema: Schema }[];
  body: Schema | null;
}

/** A generated request. `path` is already filled in and percent-encoded; `body` is the raw text sent. */
export interface FuzzCase {
  op: string;
  who: Who;
  mode: 'valid' | 'malformed';
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body?: string;
}

export interface Finding {
  kind: 'server_error' | 'error_shape' | 'security_headers' | 'write_on_rejection' | 'secret_leak' | 'transport';
  op: string;
  who: Who;
  status: number;
  detail: string;
  request: { method: string; url: string; body?: string };
}

/** The operations of an OpenAPI 3 document. */
export function operationsFrom(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = op.parameters ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        id: `${method.toUpperCase()} ${path}`,
        pathParams: params.filter((p) => p.in === 'path').map((p) => ({ name: p.name, schema: p.schema ?? { type: 'string' } })),
        queryParams: params.filter((p) => p.in === 'query').map((p) => ({ name: p.name, required: Boolean(p.required), schema: p.schema ?? { type: 'string' } })),
        body: op.requestBody?.content?.['application/json']?.schema ?? null,
      });
    }
  }
  return ops;
}

/** Strings that broke or could break parsers, validators, SQL, paths or PostgreSQL text. */
const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  'x\ud800',
  '\udc00',
  '%FF',
  '%00',
  '../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  '<script>alert(1)</script>',
  '{{7*7}}',
  '${jndi:ldap://x}',
  '\u202eevil',
  '😀',
  '1e20',
  '-1',
  '9007199254740993',
  'NaN',
  'Infinity',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '2026-100',
  '2026-W05',
  '2026-13-45T99:99:99Z',
  'a'.repeat(300),
  'b'.repeat(5000),
];

const nastyString = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
);

const nastyNumber = fc.oneof(
  fc.constantFrom(0, -1, 1, 1.5, -0.0001, 1e20, -1e20, 2 ** 53 + 2, 2 ** 31, 1e308),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Deeply nested arrays/objects (around the 32-level JSON depth limit, or far past it). */
const deepValue = fc.tuple(fc.oneof(fc.integer({ min: 20, max: 60 }), fc.constantFrom(500, 2500)), fc.boolean()).map(([depth, arrays]) => {
  let v: unknown = 'x';
  for (let i = 0; i < depth; i++) v = arrays ? [v] : { a: v };
  return v;
});

/** Any JSON value with a bias to the ones that break things. */
const nastyValue: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    nastyNumber,
    nastyString,
    deepValue,
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(nastyString, tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** Resolves `$ref` (components only) and the first `allOf` member. */
function resolve(schema: Schema, doc: OpenApiDoc): Schema {
  let s = schema;
  for (let i = 0; i < 10 && s.$ref; i++) s = doc.components?.schemas?.[s.$ref.replace('#/components/schemas/', '')] ?? {};
  if (s.allOf?.length) return resolve(s.allOf[0], doc);
  return s;
}

/**
 * A schema-shaped ("valid-ish") value: right types, enums and ranges, strings from the example or short text, ids
 * from `ids` (existing rows) when the property name looks like an id. Not always valid (patterns are ignored),
 * which is the point.
 */
export function validArb(schema: Schema, doc: OpenApiDoc, ids: Record<string, string[]>, name = '', depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, doc);
  if (s.oneOf?.length || s.anyOf?.length) return fc.oneof(...(s.oneOf ?? s.anyOf ?? []).map((x) => validArb(x, doc, ids, name, depth)));
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const idPool = idsFor(name, ids);
  switch (s.type) {
    case 'integer':
    case 'number': {
      const min = s.minimum ?? 0;
      const max = s.maximum ?? Math.max(min + 1000, 1000);
      return s.type === 'integer' || Number.isInteger(min) ? fc.integer({ min: Math.ceil(min), max: Math.floor(Math.min(max, 2 ** 31)) }) : fc.double({ min, max, noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      if (depth > 4) return fc.constant([]);
      const item = validArb(s.items ?? { type: 'string' }, doc, ids, name, depth + 1);
      return fc.array(item, { minLength: s.minItems ?? 0, maxLength: Math.min(s.maxItems ?? 4, 4) });
    }
    case 'object':
    case undefined: {
      if (!s.properties) return depth > 3 ? fc.constant({}) : fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.oneof(fc.string({ maxLength: 10 }), fc.integer()), { maxKeys: 3 });
      const req = new Set(s.required ?? []);
      const entries = Object.entries(s.properties).map(([k, v]) => [k, validArb(v, doc, ids, k, depth + 1)] as const);
      return fc.record(Object.fromEntries(entries), { requiredKeys: [...req].filter((k) => k in s.properties!) });
    }
    default: {
      const opts: fc.Arbitrary<unknown>[] = [fc.string({ minLength: Math.max(1, s.minLength ?? 1), maxLength: Math.min(s.maxLength ?? 24, 24) })];
      if (typeof s.example === 'string') opts.push(fc.constant(s.example));
      if (s.format === 'date-time' || /(^|[a-z])(from|to|deadline|since|until)$/i.test(name)) opts.push(fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
      if (s.format === 'uuid') opts.push(fc.uuid());
      if (idPool.length) opts.push(fc.constantFrom(...idPool), fc.constantFrom(...idPool));
      return fc.oneof(...opts);
    }
  }
}

/** Existing ids that fit a parameter or property name (`id`, `taskId`, `agentId`, ...). */
function idsFor(name: string, ids: Record<string, string[]>): string[] {
  const n = name.toLowerCase();
  if (n === 'id' || n === 'ref' || n === 'hash') return Object.values(ids).flat();
  for (const [k, v] of Object.entries(ids)) if (n.startsWith(k.toLowerCase())) return v;
  return [];
}

/** Malformed variants of a valid body: a required field dropped, a field set to a nasty value, an unknown field. */
function mutateBody(valid: fc.Arbitrary<unknown>, s: Schema): fc.Arbitrary<unknown> {
  const props = Object.keys(s.properties ?? {});
  return fc.oneof(
    fc.tuple(valid, fc.constantFrom(...(props.length ? props : ['x'])), nastyValue).map(([v, k, bad]) => ({ ...(v as object), [k]: bad })),
    fc.tuple(valid, fc.constantFrom(...(props.length ? props : ['x']))).map(([v, k]) => {
      const copy = { ...(v as Record<string, unknown>) };
      delete copy[k];
      return copy;
    }),
    fc.tuple(valid, fc.constantFrom(...(props.length ? props : ['x'])), deepValue).map(([v, k, deep]) => ({ ...(v as object), [k]: deep })),
    fc.tuple(valid, nastyString, nastyValue).map(([v, k, bad]) => ({ ...(v as object), [k || 'extra']: bad })),
    nastyValue,
  );
}

/** Raw texts sent as application/json that are not valid JSON or not what any route accepts. */
const RAW_BODIES = ['{"a": 1,', '[[[[[[', 'null', '5', '"x"', 'true', '{"__proto__": {"isAdmin": true}}', '{"constructor": {"prototype": {"x": 1}}}', '\u0000', '{"a":"\\ud800"}', '[' .repeat(5000), '{"a":'.repeat(2000)];

/** encodeURIComponent that never throws (a lone surrogate cannot be percent-encoded as UTF-8: it is sent as U+FFFD). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '\ufffd'));
  }
}

/** Path segment values: existing ids, schema strings, and malformed or hostile segments. */
function pathParamArb(name: string, ids: Record<string, string[]>, malformed: boolean): fc.Arbitrary<string> {
  const pool = idsFor(name, ids);
  const valid = fc.oneof(fc.uuid(), fc.stringMatching(/^[a-z0-9-]{1,24}$/), ...(pool.length ? [fc.constantFrom(...pool)] : []));
  if (!malformed) return valid.map(enc);
  return fc.oneof(
    nastyString.map(enc),
    fc.constantFrom('%FF', '%00', '%', '%E0%A4%A', 'a%2Fb', '..', '.', 'a'.repeat(5000), '%C0%AE%C0%AE'),
    valid.map(enc),
  );
}

function queryValueArb(schema: Schema, doc: OpenApiDoc, ids: Record<string, string[]>, name: string, malformed: boolean): fc.Arbitrary<string> {
  const valid = validArb(schema, doc, ids, name).map((v) => (Array.isArray(v) ? v.join(',') : String(v)));
  return malformed ? fc.oneof(valid, nastyString, nastyNumber.map(String)) : valid;
}

/** fast-check arbitrary of FuzzCases over `ops`. `ids` are existing row ids to aim valid-ish requests at. */
export function caseArb(ops: Operation[], doc: OpenApiDoc, ids: Record<string, string[]>): fc.Arbitrary<FuzzCase> {
  return fc
    .tuple(fc.constantFrom(...ops), fc.constantFrom(...PRINCIPALS), fc.boolean())
    .chain(([op, who, malformed]) => {
      const params = fc.tuple(...op.pathParams.map((p) => pathParamArb(p.name, ids, malformed)), fc.constant(''));
      const query = fc.tuple(
        ...op.queryParams.map((q) =>
          fc.option(queryValueArb(q.schema, doc, ids, q.name, malformed).map((v) => [q.name, v] as [string, string]), { freq: q.required ? 10 : 2 }),
        ),
        fc.option(fc.tuple(malformed ? nastyString : fc.constantFrom('unknownParam', 'limit', 'sort'), nastyString), { freq: malformed ? 2 : 8 }),
      );
      const bodySchema = op.body ? resolve(op.body, doc) : null;
      const validBody = op.body ? validArb(op.body, doc, ids).map((v) => JSON.stringify(v)) : fc.constant(undefined);
      const body: fc.Arbitrary<{ text?: string; type?: string }> = malformed
        ? fc.oneof(
            { weight: 4, arbitrary: (op.body ? mutateBody(validArb(op.body, doc, ids), bodySchema!) : nastyValue).map((v) => ({ text: JSON.stringify(v) ?? 'null', type: 'application/json' })) },
            { weight: 2, arbitrary: fc.constantFrom(...RAW_BODIES).map((text) => ({ text, type: 'application/json' })) },
            {
              weight: 1,
              arbitrary: fc.tuple(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', 'bogus'), nastyString).map(([type, text]) => ({ text, type })),
            },
            { weight: 1, arbitrary: fc.constant({}) },
          )
        : validBody.map((text) => (text === undefined ? {} : { text, type: 'application/json' }));
      const headers = malformed
        ? fc.option(
            fc.constantFrom<Record<string, string>>(
              { authorization: 'Bearer mck_not-a-real-key' },
              { authorization: 'Basic YWRtaW46YWRtaW4=' },
              { authorization: 'Bearer ' },
              { cookie: 'mc_session=mcs_forged' },
              { 'x-forwarded-for': '1.2.3.4' },
              { accept: 'text/html' },
              { 'x-csrf-token': 'forged' },
            ),
            { freq: 3 },
          )
        : fc.constant(null);
      return fc.tuple(params, query, body, headers).map(([p, q, b, h]): FuzzCase => {
        let path = op.path;
        op.pathParams.forEach((pp, i) => (path = path.replace(`{${pp.name}}`, (p as string[])[i] || 'x')));
        const qs = (q as ([string, string] | null)[])
          .filter((x): x is [string, string] => x !== null)
          .map(([k, v]) => `${enc(k)}=${enc(v)}`)
          .join('&');
        const headersOut: Record<string, string> = { ...(h ?? {}) };
        if (b.type) headersOut['content-type'] = b.type;
        return { op: op.id, who, mode: malformed ? 'malformed' : 'valid', method: op.method, path, query: qs, headers: headersOut, body: b.text };
      });
    });
}

/**
 * Row counts of every table (one query). The event log is counted without its timer-written `router` channel and
 * without `auth.login_failed`: a refused login is recorded on purpose (the security channel's audit trail of
 * brute-force attempts, itself bounded by the per-IP login rate limit), the one write a rejected request makes.
 */
export async function tableCounter(ds: DataSource): Promise<() => Promise<Record<string, number>>> {
  const pg = ds.options.type === 'postgres';
  const rows: { name: string }[] = await ds.query(
    pg
      ? `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`
      : `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
  );
  // written by timers (router metric flushes, consumer cursors, leases), not by the request under test
  const skip = /^(migrations|typeorm_metadata|provider_metrics|llm_provider.*|event_consumers?|consumer_cursors?|leases?|instance.*|.*_fts.*|.*_vec.*)$/;
  const tables = rows.map((r) => r.name).filter((n) => !skip.test(n)).sort();
  const q = (n: string) => (pg ? `"${n}"` : `"${n}"`);
  const parts = tables.map((t) => `(SELECT COUNT(*) FROM ${q(t)}${t === 'event_log' ? ` WHERE channel <> 'router' AND type <> 'auth.login_failed'` : ''}) AS ${q(t)}`);
  const sql = `SELECT ${parts.join(', ')}`;
  return async () => {
    const [row] = (await ds.query(sql)) as Record<string, string | number>[];
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
  };
}

/** The texts that must never appear in a response: passwords, keys, their sha256 hex, argon2 hashes. */
export function secretsOf(passwords: string[], keys: string[]): string[] {
  return [...passwords, ...keys, ...keys.map((k) => hash('sha256', k, 'hex')), '$argon2'];
}

const CODE = /^[a-z][a-z0-9-]*\/[a-z][a-z0-9_]*$/;
/**
 * The one 5xx that is not a finding: 503 for a feature switched off by configuration (the upgrade queue without
 * UPGRADE_REPO_PATH), in the error shape with its own code. Any 500, and any other 5xx, is a finding.
 */
const UNAVAILABLE = /^\{"statusCode":503,"code":"upgrade\/disabled","message":"[^"]+"\}$/;

/** Checks one response; returns the findings (empty when it holds). */
export function checkResponse(
  c: FuzzCase,
  url: string,
  res: { status: number; headers: Headers; text: string },
  secrets: string[],
  countsChanged: string | null,
): Finding[] {
  const out: Finding[] = [];
  const add = (kind: Finding['kind'], detail: string) =>
    out.push({ kind, op: c.op, who: c.who, status: res.status, detail: detail.slice(0, 300), request: { method: c.method, url: url.slice(0, 300), body: c.body?.slice(0, 300) } });
  if (res.status >= 500 && !(res.status === 503 && UNAVAILABLE.test(res.text))) add('server_error', res.text);
  if (res.status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      body = undefined;
    }
    const b = body as Record<string, unknown> | undefined;
    // exactly { statusCode, code, message }, plus the contract's optional machine-readable `details` (ErrorResponse)
    const keys = b && typeof b === 'object' ? Object.keys(b).filter((k) => k !== 'details').sort().join(',') : '';
    if (!b || keys !== 'code,message,statusCode' || b.statusCode !== res.status || typeof b.code !== 'string' || !CODE.test(b.code) || typeof b.message !== 'string' || !b.message) {
      add('error_shape', res.text || '(empty body)');
    }
    if (countsChanged) add('write_on_rejection', countsChanged);
  }
  if (res.headers.get('x-content-type-options') !== 'nosniff') add('security_headers', 'x-content-type-options missing');
  for (const s of secrets) if (s && res.text.includes(s)) add('secret_leak', `response contains a secret (${s.slice(0, 4)}...)`);
  return out;
}

/** The JSON report of a run (one line). */
export interface FuzzReport {
  suite: 'openapi-fuzz';
  db: string;
  seed: number;
  cases: number;
  operations: number;
  operationsCovered: number;
  durationMs: number;
  byStatus: Record<string, number>;
  byPrincipal: Record<string, number>;
  findings: number;
  findingsByKind: Record<string, number>;
  samples: Finding[];
}
