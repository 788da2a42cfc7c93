/**
 * Child process of `pnpm bench:feed --saturation`: the peer. A plain Socket.IO server (the `socket.io` package the
 * API uses, same version, same engine options) on a loopback port, namespace `/live`, that joins a socket to room
 * `all` on `subscribe` and emits ONE `event` message per event to that room. Its producer is the equivalent of the
 * API benchmark's: paced every 10 ms, one envelope per event carrying its creation time `data.t` (epoch ms), no
 * persistence. IPC:
 *   child -> { listening: url }                                  once the server listens
 *   parent -> { cmd: 'run', rate, durationS, step }              child -> { done: { sent, wallS } } when all are emitted
 *   parent -> { cmd: 'close' }                                   child exits
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Emits `rate` events/s for `durationS` seconds to room `all`; resolves with the count and the wall time (s). */
async function produce(io: Server, rate: number, durationS: number, step: string, seq0: number): Promise<{ sent: number; wallS: number }> {
  const nsp = io.of('/live');
  const total = Math.round(rate * durationS);
  const wall0 = now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((now() - wall0) / 1000) * rate));
    for (; sent < due; sent++) {
      const t = now();
      nsp.to('all').emit('event', {
        seq: seq0 + sent + 1,
        id: randomUUID(),
        type: 'system.info',
        source: 'bench',
        channel: 'system',
        taskId: null,
        agentId: null,
        data: { message: 'b', t, i: sent, step },
        createdAt: new Date(t).toISOString(),
      });
    }
    await sleep(10);
  }
  return { sent, wallS: (now() - wall0) / 1000 };
}

function main(): void {
  const http = createServer();
  const io = new Server(http, { maxHttpBufferSize: 1_000_000, transports: ['websocket', 'polling'], pingInterval: 10_000, pingTimeout: 8_000 });
  io.of('/live').on('connection', (socket) => {
    socket.on('subscribe', (_msg: unknown, ack?: (r: unknown) => void) => {
      void socket.join('all');
      ack?.({ ok: true });
    });
  });
  let seq = 0;
  process.on('message', (msg: { cmd: string; rate?: number; durationS?: number; step?: string }) => {
    if (msg.cmd === 'run') {
      void produce(io, msg.rate ?? 1, msg.durationS ?? 1, msg.step ?? '', seq).then((done) => {
        seq += done.sent;
        process.send!({ done });
      });
    } else if (msg.cmd === 'close') {
      void io.close();
      setTimeout(() => process.exit(0), 100);
    }
  });
  http.listen(0, '127.0.0.1', () => {
    const { port } = http.address() as { port: number };
    process.send!({ listening: `http://127.0.0.1:${port}` });
  });
}

main();
