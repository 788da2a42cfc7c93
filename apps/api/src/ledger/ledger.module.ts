import { Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogModule } from '../event-log/event-log.module';
import { EventLogWriter } from '../event-log/event-log.writer';
import { LIGHTNING_BACKEND, type LightningBackend } from './backends/lightning-backend';
import { LndRestBackend, lndConfigFromEnv } from './backends/lnd-rest.backend';
import { MockLightningBackend } from './backends/mock-lightning.backend';
import { LedgerDevController } from './ledger-dev.controller';
import { LedgerController } from './ledger.controller';
import { LedgerService } from './ledger.service';
import { ReconciliationService } from './reconciliation.service';

/**
 * The Lightning ledger (`ledger_*` tables, channel `ledger`): double-entry accounts, two-phase transfers, invoices,
 * payments and task payouts over one Lightning backend (`LIGHTNING_BACKEND`). Exports LedgerService (swarm calls
 * its `...InTx` payout methods inside its own units of work).
 */
@Module({
  imports: [EventLogModule],
  controllers: [LedgerController, LedgerDevController],
  providers: [
    LedgerService,
    ReconciliationService,
    {
      provide: LIGHTNING_BACKEND,
      inject: [DataSource, EventLogWriter, APP_CONFIG],
      useFactory: (ds: DataSource, events: EventLogWriter, config: AppConfig): LightningBackend => {
        if (config.LIGHTNING_BACKEND === 'lnd') return new LndRestBackend(lndConfigFromEnv(config));
        return new MockLightningBackend(ds, events, config.LIGHTNING_NETWORK);
      },
    },
  ],
  exports: [LedgerService],
})
export class LedgerModule {}
