import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { createAdapter as CreateRedisAdapter } from '@socket.io/redis-adapter';
import type { ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/app-config';
import { CLUSTER_BUS_ACK_TIMEOUT_MS } from './cluster-bus';

/**
 * The Redis key prefix of a deployment: REDIS_PREFIX when set, else `mc:<epoch>`, the event log's random id
 * (`meta.epoch`), which every instance on one database shares and another deployment never has, however the
 * instances spell the database URL. Socket.IO's Redis adapter uses it as its `key` option (channels `<prefix>#...`).
 */
export function redisKeyPrefix(configured: string | undefined, epoch: string): string {
  if (configured) return configured;
  if (!epoch) throw new Error('the event log has no epoch (meta.epoch): cannot derive the Redis key prefix; set REDIS_PREFIX');
  return `mc:${epoch}`;
}

/**
 * Socket.IO adapter: websocket + polling transports, no CORS (same origin), 1 MB max message, and the
 * Redis adapter (@socket.io/redis-adapter) when REDIS_URL is set so several API instances share rooms.
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly logger = new Logger('RealtimeIoAdapter');
  // node-redis client generics clash with the adapter's; keep them loosely typed (toolchain.md gotcha 17)
  private redisClients: { pub: any; sub: any } | null = null; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** `@socket.io/redis-adapter`'s factory, imported with the Redis client only when REDIS_URL is set (~700 modules). */
  private createRedisAdapter: typeof CreateRedisAdapter | null = null;

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  /** Key prefix of every Redis channel the adapter uses (null without REDIS_URL); see `redisKeyPrefix`. */
  redisPrefix: string | null = null;

  /**
   * Connects the Redis pub/sub pair when REDIS_URL is set, with channels under `redisKeyPrefix(...)` so two deployments
   * sharing one Redis never see each other's traffic. `epoch` is the event log's `meta.epoch` (the deployment's id).
   * @throws when Redis is unreachable (fail at boot).
   */
  async connectRedis(epoch: string): Promise<void> {
    if (!this.config.REDIS_URL) return;
    this.redisPrefix = redisKeyPrefix(this.config.REDIS_PREFIX, epoch);
    const [{ createClient }, { createAdapter }] = await Promise.all([import('redis'), import('@socket.io/redis-adapter')]);
    this.createRedisAdapter = createAdapter;
    const pub = createClient({ url: this.config.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    this.redisClients = { pub, sub };
    this.logger.log(`Socket.IO Redis adapter enabled (channels under "${this.redisPrefix}")`);
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    const server = super.createIOServer(port, {
      ...options,
      cors: undefined,
      maxHttpBufferSize: 1_000_000,
      transports: ['websocket', 'polling'],
      pingInterval: 10_000,
      pingTimeout: 8_000,
    } as ServerOptions) as { adapter(a: unknown): void };
    if (this.redisClients && this.createRedisAdapter) server.adapter(this.createRedisAdapter(this.redisClients.pub, this.redisClients.sub, { key: this.redisPrefix!, requestsTimeout: CLUSTER_BUS_ACK_TIMEOUT_MS }));
    return server;
  }

  /** Closes the Socket.IO server, then the Redis clients (called by Nest on app.close()). */
  override async close(server: { close(): unknown }): Promise<void> {
    await super.close(server as never);
    await this.closeRedis();
  }

  /** Closes the Redis clients. */
  async closeRedis(): Promise<void> {
    if (!this.redisClients) return;
    await Promise.allSettled([this.redisClients.pub.quit(), this.redisClients.sub.quit()]);
    this.redisClients = null;
  }
}
