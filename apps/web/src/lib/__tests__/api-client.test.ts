import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, buildQuery, setCsrfToken, setUnauthorizedHandler } from '../api-client';

type Call = { url: string; method: string; headers: Record<string, string>; body?: string };

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function fakeFetch(responder: (call: Call, n: number) => Response) {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    const call = { url, method: init.method ?? 'GET', headers: init.headers as Record<string, string>, body: init.body as string | undefined };
    calls.push(call);
    return responder(call, calls.length);
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken('');
  setUnauthorizedHandler(null);
});

describe('api client', () => {
  it('sends x-csrf-token on writes only', async () => {
    setCsrfToken('tok-1');
    const calls = fakeFetch(() => json(200, { ok: true }));
    await api.get('/api/agents');
    await api.post('/api/tasks', { description: 'x' });
    expect(calls[0].headers['x-csrf-token']).toBeUndefined();
    expect(calls[1].headers['x-csrf-token']).toBe('tok-1');
    expect(JSON.parse(calls[1].body!)).toEqual({ description: 'x' });
  });

  it('on 403 auth/csrf_invalid refetches /me and retries once with the new token', async () => {
    setCsrfToken('stale');
    const calls = fakeFetch((call, n) => {
      if (call.url === '/api/auth/me') return json(200, { principal: {}, csrfToken: 'fresh' });
      if (n === 1) return json(403, { statusCode: 403, code: 'auth/csrf_invalid', message: 'Missing or invalid x-csrf-token header' });
      return json(201, { id: 't1' });
    });
    await expect(api.post('/api/tasks', { description: 'x' })).resolves.toEqual({ id: 't1' });
    expect(calls.map((c) => `${c.method} ${c.url} ${c.headers['x-csrf-token'] ?? ''}`)).toEqual([
      'POST /api/tasks stale',
      'GET /api/auth/me ',
      'POST /api/tasks fresh',
    ]);
  });

  it('does not retry twice and surfaces the error code', async () => {
    setCsrfToken('stale');
    fakeFetch((call) =>
      call.url === '/api/auth/me' ? json(200, { principal: {}, csrfToken: 'still-bad' }) : json(403, { statusCode: 403, code: 'auth/csrf_invalid', message: 'bad token' }),
    );
    const err = await api.post('/api/tasks', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: 'auth/csrf_invalid', message: 'bad token' });
  });

  it('calls the unauthorized handler on 401 outside /api/auth', async () => {
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    fakeFetch(() => json(401, { statusCode: 401, code: 'auth/unauthenticated', message: 'no session' }));
    await expect(api.get('/api/agents')).rejects.toMatchObject({ code: 'auth/unauthenticated' });
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('buildQuery joins arrays and skips empty values', () => {
    expect(buildQuery({ type: ['task.created', 'bid.submitted'], agentId: '', taskId: undefined, before: 10 })).toBe(
      '?type=task.created%2Cbid.submitted&before=10',
    );
    expect(buildQuery({ type: [] })).toBe('');
  });
});
