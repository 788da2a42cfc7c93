import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNumber,
  IsObject,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { MEMORY_ENTRY_TYPES, MEMORY_SEARCH_MODES, type MemoryEntryType, type MemoryFilters, type MemorySearchMode } from '@app/contracts';
import { MAX_CONTENT_CHARS, MAX_CONTEXT_TOKENS, MAX_SEARCH_LIMIT } from '../memory.service';

/** Search / context filters; unknown keys are rejected (400). */
export class MemoryFiltersDto implements MemoryFilters {
  @ApiPropertyOptional({ enum: MEMORY_ENTRY_TYPES }) @IsOptional() @IsIn(MEMORY_ENTRY_TYPES) type?: MemoryEntryType;
  @ApiPropertyOptional({ maxLength: 64 }) @IsOptional() @IsString() @MaxLength(64) agentId?: string;
  @ApiPropertyOptional({ description: 'With agentId: also entries of no agent (shared swarm scope)' }) @IsOptional() @IsBoolean() includeShared?: boolean;
  @ApiPropertyOptional({ maxLength: 64 }) @IsOptional() @IsString() @MaxLength(64) taskId?: string;
  @ApiPropertyOptional({ maxLength: 128 }) @IsOptional() @IsString() @MaxLength(128) sessionId?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) source?: string;
  @ApiPropertyOptional({ description: 'createdAt >= from (ISO-8601)' }) @IsOptional() @IsISO8601() from?: string;
  @ApiPropertyOptional({ description: 'createdAt < to (ISO-8601)' }) @IsOptional() @IsISO8601() to?: string;
}

export class StoreMemoryDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_CONTENT_CHARS }) @IsString() @MinLength(1) @MaxLength(MAX_CONTENT_CHARS) content: string;
  @ApiPropertyOptional({ enum: MEMORY_ENTRY_TYPES, default: 'observation' }) @IsOptional() @IsIn(MEMORY_ENTRY_TYPES) type?: MemoryEntryType;
  @ApiPropertyOptional({ description: 'Who said / produced it (speaker, agent name, `user`, `system`)', maxLength: 100 })
  @IsOptional() @IsString() @MinLength(1) @MaxLength(100) source?: string;
  @ApiPropertyOptional({ maxLength: 64 }) @IsOptional() @IsString() @MaxLength(64) agentId?: string;
  @ApiPropertyOptional({ maxLength: 64 }) @IsOptional() @IsString() @MaxLength(64) taskId?: string;
  @ApiPropertyOptional({ maxLength: 128 }) @IsOptional() @IsString() @MaxLength(128) sessionId?: string;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() metadata?: Record<string, unknown>;
  @ApiPropertyOptional({ description: 'When the memory happened (ISO-8601, default now)' }) @IsOptional() @IsISO8601() createdAt?: string;
  @ApiPropertyOptional({ description: 'Precomputed vector for the configured model (must match its dimension)', type: [Number] })
  @IsOptional() @IsArray() @ArrayMaxSize(8192) @IsNumber({ allowNaN: false, allowInfinity: false }, { each: true }) embedding?: number[];
}

export class SearchMemoryDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 }) @IsString() @MinLength(1) @MaxLength(2000) query: string;
  @ApiPropertyOptional({ type: MemoryFiltersDto }) @IsOptional() @IsObject() @ValidateNested() @Type(() => MemoryFiltersDto) filters?: MemoryFiltersDto;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_SEARCH_LIMIT, default: 10 }) @IsOptional() @IsInt() @Min(1) @Max(MAX_SEARCH_LIMIT) limit?: number;
  @ApiPropertyOptional({ enum: MEMORY_SEARCH_MODES, default: 'hybrid' }) @IsOptional() @IsIn(MEMORY_SEARCH_MODES) mode?: MemorySearchMode;
}

export class ContextMemoryDto {
  @ApiProperty({ minLength: 1, maxLength: 2000 }) @IsString() @MinLength(1) @MaxLength(2000) query: string;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CONTEXT_TOKENS, default: 2000 }) @IsOptional() @IsInt() @Min(1) @Max(MAX_CONTEXT_TOKENS) maxTokens?: number;
  @ApiPropertyOptional({ type: MemoryFiltersDto }) @IsOptional() @IsObject() @ValidateNested() @Type(() => MemoryFiltersDto) filters?: MemoryFiltersDto;
}

export class SetFactDto {
  @ApiProperty({ description: 'Who/what the fact is about (`operator` facts are always in context)', maxLength: 200 })
  @IsString() @MinLength(1) @MaxLength(200) subject: string;
  @ApiProperty({ description: 'Which property of the subject', maxLength: 200 }) @IsString() @MinLength(1) @MaxLength(200) key: string;
  @ApiProperty({ maxLength: MAX_CONTENT_CHARS }) @IsString() @MinLength(1) @MaxLength(MAX_CONTENT_CHARS) content: string;
  @ApiPropertyOptional({ description: 'When it became true (ISO-8601, default now)' }) @IsOptional() @IsISO8601() validFrom?: string;
  @ApiPropertyOptional({ maxLength: 64 }) @IsOptional() @IsString() @MaxLength(64) agentId?: string;
  @ApiPropertyOptional({ type: Object }) @IsOptional() @IsObject() metadata?: Record<string, unknown>;
}

export class FactQueryDto {
  @ApiPropertyOptional({ maxLength: 200, description: 'Omit subject and key for every version of every fact' }) @IsOptional() @IsString() @MinLength(1) @MaxLength(200) subject?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MinLength(1) @MaxLength(200) key?: string;
}

export class FactsAsOfQueryDto {
  @ApiPropertyOptional({ description: 'Instant (ISO-8601, default now)' }) @IsOptional() @IsISO8601() at?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MinLength(1) @MaxLength(200) subject?: string;
}
