import { Global, Module } from '@nestjs/common';
import { EventLogModule } from '../../event-log/event-log.module';
import { LedgerModule } from '../ledger.module';
import { L402ReleaseInterceptor } from './l402-release.interceptor';
import { L402Service } from './l402.service';

/**
 * L402 pay-per-use (issue 8, ADR 0011). Global so the AuthGuard (auth module) and the priced controllers' release
 * interceptor (swarm, llm-router) resolve L402Service without importing the ledger module.
 */
@Global()
@Module({
  imports: [EventLogModule, LedgerModule],
  providers: [L402Service, L402ReleaseInterceptor],
  exports: [L402Service, L402ReleaseInterceptor],
})
export class L402Module {}
