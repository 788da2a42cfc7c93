/**
 * Child process of `bench:router`: a lean OpenAI-compatible upstream (`POST /v1/chat/completions` JSON,
 * `GET /v1/models`) on two loopback ports, `primary` and `backup`, in its own process so it never shares the
 * router's event loop. IPC: `{ cmd: 'outage', on: true }` stops the primary listening (connection refused),
 * `{ cmd: 'outage', on: false }` brings it back on the same port; `{ cmd: 'count' }` answers the primary's chat count.
 * (Wire format identical to the fake in test/support/fakes, minus fault injection, to keep the benchmark's
 * upstream as cheap and steady as possible.)
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

const BODY = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
});
const MODELS = JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: 1, owned_by: 'bench' }] });

let primaryChats = 0;

function makeServer(onChat: () => void): { server: http.Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST' && req.url?.startsWith('/v1/chat/completions')) {
        onChat();
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) });
        res.end(BODY);
      } else if (req.method === 'GET' && req.url?.startsWith('/v1/models')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(MODELS) });
        res.end(MODELS);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found"}}');
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { server, sockets };
}

const listen = (s: http.Server, port: number) => new Promise<number>((resolve) => s.listen(port, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

async function main(): Promise<void> {
  let primary = makeServer(() => primaryChats++);
  const backup = makeServer(() => undefined);
  const primaryPort = await listen(primary.server, 0);
  const backupPort = await listen(backup.server, 0);
  const handle = async (m: { cmd: string; on?: boolean; id?: number }) => {
    if (m.cmd === 'outage' && m.on) {
      for (const s of primary.sockets) s.destroy();
      await new Promise<void>((r) => primary.server.close(() => r()));
    } else if (m.cmd === 'outage' && !m.on) {
      primary = makeServer(() => primaryChats++);
      await listen(primary.server, primaryPort);
    }
    process.send?.({ ack: m.cmd, id: m.id, primaryChats });
  };
  process.on('message', (m: { cmd: string; on?: boolean; id?: number }) => void handle(m));
  process.send?.({ ready: true, primaryPort, backupPort });
}

void main();
