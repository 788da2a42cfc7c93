import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { EventLogModule } from '../event-log/event-log.module';
import { ApiKeysController } from './api-keys.controller';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { AuthService } from './auth.service';
import { CsrfService } from './csrf.service';
import { UsersController } from './users.controller';

/** Users, sessions, API keys, the global AuthGuard and CSRF. Exports AuthService. */
@Module({
  imports: [EventLogModule],
  controllers: [AuthController, UsersController, ApiKeysController],
  providers: [AuthService, CsrfService, { provide: APP_GUARD, useClass: AuthGuard }],
  exports: [AuthService],
})
export class AuthModule {}
