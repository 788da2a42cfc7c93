import { DynamicModule, Global, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ThrottlerModule } from '@nestjs/throttler';
import { TypeOrmModule } from '@nestjs/typeorm';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AuthModule } from './auth/auth.module';
import { APP_CONFIG, type AppConfig } from './config/app-config';
import { buildDataSourceOptions, initializeDataSource } from './database/data-source';
import { EventLogModule } from './event-log/event-log.module';
import { L402Module } from './ledger/l402/l402.module';
import { LedgerModule } from './ledger/ledger.module';
import { LlmRouterModule } from './llm-router/llm-router.module';
import { MemoryModule } from './memory/memory.module';
import { MetricsModule } from './metrics/metrics.module';
import { SchedulingModule } from './common/scheduling/scheduling.module';
import { HealthController } from './health/health.controller';
import { RealtimeModule } from './realtime/realtime.module';
import { SwarmModule } from './swarm/swarm.module';
import { UpgradeQueueModule } from './upgrade-queue/upgrade-queue.module';
import { SpaController } from './web/spa.controller';
import { otlpTracesUrl } from './telemetry/otlp-config';
import { TelemetryModule } from './telemetry/telemetry.module';

@Global()
@Module({})
class ConfigHolderModule {
  static forRoot(config: AppConfig): DynamicModule {
    return { module: ConfigHolderModule, providers: [{ provide: APP_CONFIG, useValue: config }], exports: [APP_CONFIG] };
  }
}

/** Where the built dashboard is looked for when WEB_DIST is not set. */
export function defaultWebDist(): string {
  return join(__dirname, '..', '..', 'web', 'dist');
}

/** The built dashboard directory to serve (WEB_DIST, else the workspace's web build); null when disabled or not built. */
export function webDistToServe(config: AppConfig): string | null {
  const webDist = config.WEB_DIST ?? defaultWebDist();
  return webDist !== '' && existsSync(join(webDist, 'index.html')) ? webDist : null;
}

/** The whole product as one Nest module, built from a validated config. */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    const serveWeb = webDistToServe(config) !== null;
    return {
      module: AppModule,
      imports: [
        ConfigHolderModule.forRoot(config),
        EventEmitterModule.forRoot({ wildcard: false, maxListeners: 50 }),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...buildDataSourceOptions(config), migrationsRun: false }),
          dataSourceFactory: async (options) => initializeDataSource(options!),
        }),
        ThrottlerModule.forRoot({
          throttlers: [
            { name: 'login', ttl: 60_000, limit: config.LOGIN_RATE_LIMIT },
            { name: 'public', ttl: 60_000, limit: 600 },
          ],
        }),
        MetricsModule,
        SchedulingModule,
        LlmRouterModule,
        EventLogModule,
        AuthModule,
        MemoryModule,
        LedgerModule,
        L402Module,
        SwarmModule,
        RealtimeModule,
        UpgradeQueueModule,
        // task traces as OpenTelemetry GenAI spans, only with an OTLP endpoint (unset: not even loaded)
        ...(otlpTracesUrl(config) ? [TelemetryModule] : []),
      ],
      controllers: [HealthController, ...(serveWeb ? [SpaController] : [])],
    };
  }
}
