import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventLogWriter } from '../event-log.writer';
import { EventPruner } from './event-pruner';

/**
 * Scheduled prune of events older than `EVENT_RETENTION_DAYS`, every `EVENT_PRUNE_INTERVAL_MS` (first run 1 s after
 * boot). Logs `system.info` with the count after a prune and `system.error` when a prune fails.
 */
@Injectable()
export class EventRetentionService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(EventRetentionService.name);
  private timer: NodeJS.Timeout | null = null;
  private firstRun: NodeJS.Timeout | null = null;

  constructor(
    private readonly events: EventLogWriter,
    private readonly pruner: EventPruner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.runOnce(), this.config.EVENT_PRUNE_INTERVAL_MS);
    this.timer.unref();
    this.firstRun = setTimeout(() => void this.runOnce(), 1000);
    this.firstRun.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.firstRun) clearTimeout(this.firstRun);
  }

  /** Prunes once; returns the number of events deleted. Never throws (logs instead). */
  async runOnce(now = Date.now()): Promise<number> {
    const cutoff = new Date(now - this.config.EVENT_RETENTION_DAYS * 86_400_000).toISOString();
    try {
      const n = await this.pruner.prune(cutoff);
      if (n > 0) {
        this.logger.log(`pruned ${n} events older than ${cutoff}`);
        await this.events.append([{ type: 'system.info', source: 'event-retention', data: { message: `pruned ${n} events`, deleted: n, cutoff } }]);
      }
      return n;
    } catch (err) {
      const message = (err as Error).message;
      if ((err as { code?: string }).code === 'event-log/closed') return 0;
      this.logger.error(`prune failed: ${message}`);
      await this.events
        .append([{ type: 'system.error', source: 'event-retention', data: { message: 'event retention prune failed', error: message.slice(0, 300) } }])
        .catch(() => undefined);
      return 0;
    }
  }
}
