import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Optional } from '../../common/validation';
import type { AgentMessageDto, ListResponse, SendMessageRequest } from '@app/contracts';
import { ID_PATTERN } from '../../common/pipes/id-param.pipe';

export class SendMessageDto implements SendMessageRequest {
  @ApiProperty({ example: 'persona-echo' }) @Matches(ID_PATTERN, { message: 'toAgentId must match ^[A-Za-z0-9_-]{1,64}$' })
  toAgentId: string;

  @ApiProperty({ example: 'Can you double-check the figures in task 42?', maxLength: 10_000 })
  @IsString() @MinLength(1) @MaxLength(10_000)
  body: string;
}

export class MessageQueryDto {
  @ApiPropertyOptional({ description: 'Messages from or to this agent (agents always see only their own)' })
  @Optional() @Matches(ID_PATTERN, { message: 'agentId must match ^[A-Za-z0-9_-]{1,64}$' })
  agentId?: string;

  @ApiPropertyOptional({ enum: ['sent', 'delivered'] }) @Optional() @IsIn(['sent', 'delivered'])
  status?: 'sent' | 'delivered';

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class MessageResponseDto implements AgentMessageDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String, description: 'null when sent by an operator' }) fromAgentId: string | null;
  @ApiProperty() toAgentId: string;
  @ApiProperty() body: string;
  @ApiProperty({ enum: ['sent', 'delivered'] }) status: 'sent' | 'delivered';
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) deliveredAt: string | null;
}

export class MessageListResponseDto implements ListResponse<AgentMessageDto> {
  @ApiProperty({ type: [MessageResponseDto] }) items: AgentMessageDto[];
  @ApiProperty() headSeq: number;
  @ApiProperty() epoch: string;
}
