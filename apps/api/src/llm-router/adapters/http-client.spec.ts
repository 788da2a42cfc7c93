import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { ProviderCallError } from '../router.errors';
import { lines, requestText, sseEvents } from './http-client';

/** A response body delivered in the given network chunks. */
const body = (...chunks: Buffer[]) => Readable.from(chunks);

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('http-client stream parsing', () => {
  const euro = Buffer.from('{"t":"€"}\n', 'utf8'); // € is 3 bytes: split it across two chunks

  it('NDJSON lines survive a multi-byte character split between chunks', async () => {
    const got = await collect(lines(body(euro.subarray(0, 7), euro.subarray(7), Buffer.from('{"t":"x"}'))));
    expect(got).toEqual(['{"t":"€"}', '{"t":"x"}']);
  });

  it('SSE events: blank line ends an event, comments skipped, split characters intact, a cut last line ignored', async () => {
    const raw = Buffer.from(': ping\nevent: delta\ndata: {"t":"€"}\n\ndata: [DONE]\n\ndata: {"cut', 'utf8');
    const at = raw.indexOf(Buffer.from('€')) + 1;
    const got = await collect(sseEvents(body(raw.subarray(0, at), raw.subarray(at))));
    expect(got).toEqual([
      { event: 'delta', data: '{"t":"€"}' },
      { event: null, data: '[DONE]' },
    ]);
  });
});

describe('requestText (undici dispatch, whole body)', () => {
  let server: http.Server;
  let base: string;
  const routes: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
    '/ok': (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ echo: body, ct: req.headers['content-type'] ?? null, x: req.headers['x-test'] ?? null })));
    },
    '/split': (_req, res) => {
      const euro = Buffer.from('{"t":"€"}', 'utf8');
      res.writeHead(200);
      res.write(euro.subarray(0, 7));
      setTimeout(() => res.end(euro.subarray(7)), 5);
    },
    '/big': (_req, res) => res.writeHead(200).end(Buffer.alloc(4096, 'a')),
    '/429': (_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('{"error":{"message":"slow down"}}'),
    '/hang': () => undefined,
  };
  beforeAll(async () => {
    server = http.createServer((req, res) => (routes[req.url ?? ''] ?? ((_q, r: http.ServerResponse) => r.writeHead(404).end()))(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const call = (path: string, extra: Partial<Parameters<typeof requestText>[0]> = {}) =>
    ({ method: 'POST' as const, url: `${base}${path}`, signal: new AbortController().signal, timedOut: () => false, ...extra });

  it('sends the JSON body and headers, and returns status, lower-case headers and text', async () => {
    const r = await requestText(call('/ok', { body: { a: 1 }, headers: { 'x-test': 'yes' } }));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.text)).toEqual({ echo: '{"a":1}', ct: 'application/json', x: 'yes' });
  });

  it('decodes a character split between two network chunks', async () => {
    expect((await requestText(call('/split'))).text).toBe('{"t":"€"}');
  });

  it('a body over maxBytes is a bad_response; a non-2xx is classified with its Retry-After', async () => {
    await expect(requestText(call('/big'), 1000)).rejects.toMatchObject({ reason: 'bad_response' });
    const err = (await requestText(call('/429')).catch((e: unknown) => e)) as ProviderCallError;
    expect(err).toBeInstanceOf(ProviderCallError);
    expect(err.reason).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(7000);
    expect(err.message).toContain('slow down');
  });

  it('abort and timeout end a hanging request at once, classified by who fired; an invalid URL is http_4xx', async () => {
    const ac = new AbortController();
    const p = requestText(call('/hang', { signal: ac.signal }));
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toMatchObject({ reason: 'aborted' });
    const tc = new AbortController();
    let timedOut = false;
    const q = requestText(call('/hang', { signal: tc.signal, timedOut: () => timedOut }));
    setTimeout(() => {
      timedOut = true;
      tc.abort();
    }, 20);
    await expect(q).rejects.toMatchObject({ reason: 'timeout' });
    const pre = new AbortController();
    pre.abort();
    await expect(requestText(call('/ok', { signal: pre.signal }))).rejects.toMatchObject({ reason: 'aborted' });
    await expect(requestText(call('/ok', { url: 'not a url' }))).rejects.toMatchObject({ reason: 'http_4xx' });
  });

  it('connection refused is classified for failover', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(requestText(call('/ok', { url: `http://127.0.0.1:${port}/ok` }))).rejects.toMatchObject({ reason: 'connection_refused' });
  });
});
