import { Global, Module } from '@nestjs/common';
import { DeadlineScheduler } from './deadline-scheduler';

/** The deadline scheduler, global: every module with restart-safe timers registers its kinds on it. */
@Global()
@Module({ providers: [DeadlineScheduler], exports: [DeadlineScheduler] })
export class SchedulingModule {}
