import { Inject, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogModule } from '../event-log/event-log.module';
import { SwarmModule } from '../swarm/swarm.module';
import { UpgradeQueueController } from './upgrade-queue.controller';
import { UpgradeQueueService } from './upgrade-queue.service';
import { UpgradeRunnerService } from './upgrade-runner.service';

/**
 * Self-upgrade approval queue: `/api/upgrades`, tables `upgrades` + `upgrade_decisions`, channel `upgrades`.
 * Exports `UpgradeQueueService` (the swarm's forge persona or any module may propose through it).
 */
@Module({
  imports: [EventLogModule, SwarmModule],
  controllers: [UpgradeQueueController],
  providers: [UpgradeQueueService, UpgradeRunnerService],
  exports: [UpgradeQueueService],
})
export class UpgradeQueueModule implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Accepts `text/x-diff` bodies (raw diff upload) up to UPGRADE_MAX_DIFF_BYTES; larger get 413 from Fastify. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance?.() as FastifyInstance | undefined;
    if (!fastify || fastify.hasContentTypeParser('text/x-diff')) return;
    fastify.addContentTypeParser('text/x-diff', { parseAs: 'string', bodyLimit: this.config.UPGRADE_MAX_DIFF_BYTES }, (_req, body, done) => done(null, body));
  }
}
