import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ChainVerification } from '@app/contracts';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Largest seq accepted in a query (PostgreSQL bigint and JS safe integers both hold it). */
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Query of `GET /api/events/verify`. */
export class VerifyQueryDto {
  @ApiPropertyOptional({ description: 'First seq to check (default: the oldest kept event)', minimum: 1 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_SEQ)
  from?: number;

  @ApiPropertyOptional({ description: 'Last seq to check (default: the head)', minimum: 1 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_SEQ)
  to?: number;
}

class ChainBreakDto {
  @ApiProperty({ description: 'seq of the first row whose stored hash is wrong' }) seq: number;
  @ApiProperty({ description: 'recomputed sha256 (hex)' }) expected: string;
  @ApiProperty({ nullable: true, type: String, description: 'stored hash' }) actual: string | null;
}

/** Swagger shape of ChainVerification. */
export class ChainVerificationDto implements ChainVerification {
  @ApiProperty() ok: boolean;
  @ApiProperty() from: number;
  @ApiProperty() to: number;
  @ApiProperty({ description: 'rows whose hash matched' }) checked: number;
  @ApiProperty({ description: 'last pruned seq (0 if none)' }) baseSeq: number;
  @ApiProperty({ description: 'hash recorded for baseSeq (64 zeros for a log never pruned)' }) baseHash: string;
  @ApiProperty() headSeq: number;
  @ApiProperty({ nullable: true, type: String }) headHash: string | null;
  @ApiProperty({ nullable: true, type: ChainBreakDto }) firstBreak: ChainBreakDto | null;
}
