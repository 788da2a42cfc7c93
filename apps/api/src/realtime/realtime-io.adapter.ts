import type { INestApplicationContext } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import type { ServerOptions } from 'socket.io';
import type { AppConfig } from '../config/app-config';

/**
 * Socket.IO adapter: websocket + polling transports, no CORS (same origin), 1 MB max message, and the
 * Redis adapter (@socket.io/redis-adapter) when REDIS_URL is set so several API instances share rooms.
 */
export class RealtimeIoAdapter extends IoAdapter {
  private readonly logger = new Logger('RealtimeIoAdapter');
  // node-redis client generics clash with the adapter's; keep them loosely typed (toolchain.md gotcha 17)
  private redisClients: { pub: any; sub: any } | null = null; // eslint-disable-line @typescript-eslint/no-explicit-any

  constructor(
    app: INestApplicationContext,
    private readonly config: AppConfig,
  ) {
    super(app);
  }

  /** Connects the Redis pub/sub pair when REDIS_URL is set. @throws when Redis is unreachable (fail at boot). */
  async connectRedis(): Promise<void> {
    if (!this.config.REDIS_URL) return;
    const pub = createClient({ url: this.config.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    this.redisClients = { pub, sub };
    this.logger.log('Socket.IO Redis adapter enabled');
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
    if (this.redisClients) server.adapter(createAdapter(this.redisClients.pub, this.redisClients.sub));
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
