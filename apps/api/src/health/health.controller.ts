import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { SkipThrottle, ThrottlerGuard } from '@nestjs/throttler';
import type { HealthResponse } from '@app/contracts';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Public } from '../common/decorators/auth.decorators';
import { EventChainVerifier } from '../event-log/hash-chain/event-chain.verifier';
import { EventLogReader } from '../event-log/event-log.reader';

const VERSION = '0.1.0';

class HealthResponseDto implements HealthResponse {
  @ApiProperty({ enum: ['ok', 'error'] }) status: 'ok' | 'error';
  @ApiProperty({ enum: ['up', 'down'] }) db: 'up' | 'down';
  @ApiProperty() epoch: string;
  @ApiProperty() headSeq: number;
  @ApiProperty({ nullable: true, type: String, description: 'sha256 hash-chain head (ADR 0009); anchor it elsewhere to detect rewrites' })
  headHash: string | null;
  @ApiProperty({ description: 'seconds' }) uptimeS: number;
  @ApiProperty() version: string;
}

@ApiTags('health')
@Controller('api/health')
export class HealthController {
  constructor(
    private readonly reader: EventLogReader,
    private readonly chain: EventChainVerifier,
  ) {}

  @Get()
  @Public()
  @UseGuards(ThrottlerGuard)
  @SkipThrottle({ login: true })
  @ApiOperation({ summary: 'Liveness + database check (no auth)' })
  @ApiOkResponse({ type: HealthResponseDto })
  @ApiErrors(429)
  async health(): Promise<HealthResponse> {
    let headSeq = 0;
    let headHash: string | null = null;
    let db: 'up' | 'down' = 'up';
    try {
      headSeq = await this.reader.getHeadSeq();
      headHash = (await this.chain.head()).hash;
    } catch {
      db = 'down';
    }
    return { status: db === 'up' ? 'ok' : 'error', db, epoch: this.reader.epoch, headSeq, headHash, uptimeS: Math.round(process.uptime()), version: VERSION };
  }
}
