/**
 * Edge controls of the realtime namespace (issue 11, section 5; ADR-022 of the prototype): a per-IP handshake rate
 * limit and caps on concurrent sockets per principal and per IP. Counts are per instance (each instance guards its
 * own sockets; with N instances behind a balancer a client can hold up to N x the cap), in memory, O(1) per handshake.
 *
 * Refusals are Socket.IO middleware errors: the client's `connect_error` has `message` = the code and
 * `data = { code, message }` with the limit in words, e.g.
 * `realtime/too_many_connections: 20 sockets already open for this principal (REALTIME_MAX_SOCKETS_PER_PRINCIPAL)`.
 */

/** Limits; 0 disables one. */
export interface ConnectionLimitsConfig {
  /** Handshakes (accepted or not) allowed per client IP per window. */
  handshakesPerIp: number;
  /** Window of the handshake rate limit, ms. */
  handshakeWindowMs: number;
  /** Concurrent sockets per principal (API key, session, or user). */
  maxSocketsPerPrincipal: number;
  /** Concurrent sockets per client IP. */
  maxSocketsPerIp: number;
}

export type LimitRefusal = { code: 'realtime/rate_limited' | 'realtime/too_many_connections'; message: string };

/** What `acquire` hands back: call `release()` once when the socket disconnects. */
export interface ConnectionLease {
  release(): void;
}

/** Map entries allowed before stale handshake windows are swept (bounded memory under an IP flood). */
const MAX_TRACKED_IPS = 100_000;

export class ConnectionLimiter {
  /** ip -> handshakes in the current fixed window (started at `windowStart`). */
  private readonly handshakes = new Map<string, { windowStart: number; count: number }>();
  private readonly perPrincipal = new Map<string, number>();
  private readonly perIp = new Map<string, number>();

  constructor(
    private readonly cfg: ConnectionLimitsConfig,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Counts one handshake from `ip`. @returns null when admitted, a refusal past `handshakesPerIp` in the window
   * (fixed windows of `handshakeWindowMs`).
   */
  admitHandshake(ip: string): LimitRefusal | null {
    const limit = this.cfg.handshakesPerIp;
    if (limit <= 0) return null;
    const t = this.now();
    let w = this.handshakes.get(ip);
    if (!w || t - w.windowStart >= this.cfg.handshakeWindowMs) {
      if (!w && this.handshakes.size >= MAX_TRACKED_IPS) this.sweep(t);
      w = { windowStart: t, count: 0 };
      this.handshakes.set(ip, w);
    }
    w.count += 1;
    if (w.count <= limit) return null;
    const retryS = Math.max(1, Math.ceil((w.windowStart + this.cfg.handshakeWindowMs - t) / 1000));
    return {
      code: 'realtime/rate_limited',
      message: `more than ${limit} connection attempts from this address in ${this.cfg.handshakeWindowMs / 1000} s (REALTIME_HANDSHAKES_PER_IP); retry in ${retryS} s`,
    };
  }

  /**
   * Takes a socket slot for `principalKey` and `ip`. @returns the lease, or a refusal when either cap is reached
   * (then nothing is taken).
   */
  acquire(principalKey: string, ip: string): ConnectionLease | LimitRefusal {
    const { maxSocketsPerPrincipal: maxP, maxSocketsPerIp: maxIp } = this.cfg;
    const p = this.perPrincipal.get(principalKey) ?? 0;
    const i = this.perIp.get(ip) ?? 0;
    if (maxP > 0 && p >= maxP) {
      return { code: 'realtime/too_many_connections', message: `${p} sockets already open for this principal (REALTIME_MAX_SOCKETS_PER_PRINCIPAL=${maxP})` };
    }
    if (maxIp > 0 && i >= maxIp) {
      return { code: 'realtime/too_many_connections', message: `${i} sockets already open from this address (REALTIME_MAX_SOCKETS_PER_IP=${maxIp})` };
    }
    this.perPrincipal.set(principalKey, p + 1);
    this.perIp.set(ip, i + 1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        decrement(this.perPrincipal, principalKey);
        decrement(this.perIp, ip);
      },
    };
  }

  /** Open sockets counted for a principal / an IP (tests, metrics). */
  openFor(principalKey: string): number {
    return this.perPrincipal.get(principalKey) ?? 0;
  }
  openFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  private sweep(t: number): void {
    for (const [ip, w] of this.handshakes) if (t - w.windowStart >= this.cfg.handshakeWindowMs) this.handshakes.delete(ip);
  }
}

function decrement(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

/** Whether `acquire` refused. */
export function isRefusal(x: ConnectionLease | LimitRefusal): x is LimitRefusal {
  return (x as LimitRefusal).code !== undefined;
}

/** The key sockets of one principal share: the API key, else the session, else the user. */
export function principalKey(p: { apiKeyId: string | null; sessionId: string | null; userId: string | null }): string {
  return p.apiKeyId ? `key:${p.apiKeyId}` : p.sessionId ? `session:${p.sessionId}` : `user:${p.userId ?? '-'}`;
}
