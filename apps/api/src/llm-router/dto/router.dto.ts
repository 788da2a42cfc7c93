import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNumber, IsString, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { Optional } from '../../common/validation';
import type { RouterChatMessage, RouterCompleteRequest, RouterControlAction } from '@app/contracts';

export const MAX_MESSAGES = 200;
export const MAX_MESSAGE_CHARS = 100_000;
export const MAX_TOKENS_LIMIT = 131_072;

export class ChatMessageDto implements RouterChatMessage {
  @ApiProperty({ enum: ['system', 'user', 'assistant'] })
  @IsIn(['system', 'user', 'assistant'])
  role: 'system' | 'user' | 'assistant';

  @ApiProperty({ maxLength: MAX_MESSAGE_CHARS })
  @IsString()
  @MaxLength(MAX_MESSAGE_CHARS)
  content: string;
}

export class RouterCompleteDto implements RouterCompleteRequest {
  @ApiProperty({ type: [ChatMessageDto], minItems: 1, maxItems: MAX_MESSAGES })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_MESSAGES)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages: ChatMessageDto[];

  @ApiPropertyOptional({ description: 'Model name, `provider/model`, or `auto` (default: each provider\'s default in priority order)', maxLength: 200 })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 2, default: 0.7 })
  @Optional()
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TOKENS_LIMIT })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(MAX_TOKENS_LIMIT)
  max_tokens?: number;
}

export class RouterControlDto {
  @ApiProperty({ enum: ['enable', 'disable', 'reset_circuit', 'probe'] })
  @IsIn(['enable', 'disable', 'reset_circuit', 'probe'], { message: 'Unknown action: use enable, disable, reset_circuit or probe' })
  action: RouterControlAction;
}

export class RouterUsageDto {
  @ApiProperty() promptTokens: number;
  @ApiProperty() completionTokens: number;
  @ApiProperty() totalTokens: number;
}

export class RouterAttemptDto {
  @ApiProperty() provider: string;
  @ApiProperty({ nullable: true, type: String }) model: string | null;
  @ApiProperty({ enum: ['success', 'error', 'skipped'] }) outcome: 'success' | 'error' | 'skipped';
  @ApiPropertyOptional({ description: 'timeout, connection_refused, http_503, rate_limited, circuit_open, cloud_not_allowed, ...' }) reason?: string;
  @ApiPropertyOptional({ description: 'Sanitised error text' }) error?: string;
  @ApiProperty({ description: 'ms' }) latencyMs: number;
}

export class RouterCompleteResponseDto {
  @ApiProperty() content: string;
  @ApiProperty() provider: string;
  @ApiProperty() model: string;
  @ApiProperty({ description: 'Whole routed request, ms' }) latencyMs: number;
  @ApiProperty({ type: RouterUsageDto }) usage: RouterUsageDto;
  @ApiProperty({ type: [RouterAttemptDto] }) attempts: RouterAttemptDto[];
}
