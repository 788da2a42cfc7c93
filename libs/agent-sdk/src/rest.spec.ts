import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AgentSdkError, RestClient, queryString } from './rest';

describe(RestClient.name, () => {
  let server: Server;
  let url: string;
  const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        if (req.url === '/ok') return res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x' }));
        if (req.url === '/empty') return res.writeHead(204).end();
        if (req.url === '/conflict') {
          return res
            .writeHead(409, { 'content-type': 'application/json' })
            .end(JSON.stringify({ statusCode: 409, code: 'swarm/auction_closed', message: 'auction closed at 2026-01-01T00:00:00.000Z' }));
        }
        if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('{}'), 2000).unref();
        res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it('sends the bearer key and JSON body, and parses JSON or empty answers', async () => {
    const sut = new RestClient({ baseUrl: url, apiKey: 'mck_k' });
    await expect(sut.post('/ok', { a: 1 })).resolves.toEqual({ id: 'x' });
    await expect(sut.post('/empty')).resolves.toBeUndefined();
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/ok', auth: 'Bearer mck_k', body: '{"a":1}' });
  });

  it('throws AgentSdkError carrying the server statusCode/code/message', async () => {
    const sut = new RestClient({ baseUrl: url, apiKey: 'mck_k' });
    const err = await sut.get('/conflict').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentSdkError);
    expect(err).toMatchObject({ statusCode: 409, code: 'swarm/auction_closed', message: 'auction closed at 2026-01-01T00:00:00.000Z' });
    await expect(sut.get('/html')).rejects.toMatchObject({ statusCode: 502, code: 'http/502' });
  });

  it('maps timeouts and refused connections to sdk/* codes without leaking the key', async () => {
    const slow = new RestClient({ baseUrl: url, apiKey: 'mck_secret', requestTimeoutMs: 200 });
    await expect(slow.get('/slow')).rejects.toMatchObject({ statusCode: 0, code: 'sdk/timeout' });
    const dead = new RestClient({ baseUrl: 'http://127.0.0.1:1', apiKey: 'mck_secret' });
    const err = (await dead.get('/x').catch((e: unknown) => e)) as AgentSdkError;
    expect(err).toMatchObject({ statusCode: 0, code: 'sdk/network_error' });
    expect(err.message).not.toContain('mck_secret');
  });

  it('requires baseUrl and apiKey', () => {
    expect(() => new RestClient({ baseUrl: '', apiKey: 'k' })).toThrow(AgentSdkError);
    expect(() => new RestClient({ baseUrl: url, apiKey: '' })).toThrow(/apiKey/);
  });
});

describe('queryString', () => {
  it('encodes defined values only', () => {
    expect(queryString({ status: 'bidding', agentId: undefined, limit: 5, x: '' })).toBe('?status=bidding&limit=5');
    expect(queryString({ a: null })).toBe('');
    expect(queryString({ q: 'a b&c' })).toBe('?q=a+b%26c');
  });
});
