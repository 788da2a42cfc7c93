import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsNumber, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { Optional } from '../../common/validation';
import {
  TASK_STATUSES,
  type AssignTaskRequest,
  type BidDto,
  type CancelTaskRequest,
  type CompleteTaskRequest,
  type CreateTaskRequest,
  type CreateTaskResponse,
  type FailTaskRequest,
  type ListResponse,
  type SubmitBidRequest,
  type SwarmStatusDto,
  type TaskDetailDto,
  type TaskDto,
  type TaskProgressRequest,
  type TaskStatus,
} from '@app/contracts';
import { ID_PATTERN } from '../../common/pipes/id-param.pipe';

export class CreateTaskDto implements CreateTaskRequest {
  @ApiProperty({ example: 'Summarise the latest research on solid-state batteries', maxLength: 10_000 })
  @IsString() @MinLength(1) @MaxLength(10_000) @Matches(/\S/, { message: 'description must not be blank' })
  description: string;

  @ApiPropertyOptional({ description: 'Assign directly to this agent (no auction)', example: 'persona-echo' })
  @Optional() @Matches(ID_PATTERN, { message: 'agentId must match ^[A-Za-z0-9_-]{1,64}$' })
  agentId?: string;

  @ApiPropertyOptional({ description: 'Auction window in ms (default AUCTION_WINDOW_MS)', minimum: 100, maximum: 3_600_000, example: 15000 })
  @Optional() @IsInt() @Min(100) @Max(3_600_000)
  auctionWindowMs?: number;

  @ApiPropertyOptional({ description: 'Budget in whole sats: bids above it are refused (409 swarm/bid_over_budget). Omit for no budget.', minimum: 1, maximum: 1_000_000, example: 500 })
  @Optional() @IsInt() @Min(1) @Max(1_000_000)
  budgetSats?: number;
}

export class AssignTaskDto implements AssignTaskRequest {
  @ApiProperty({ description: 'The agent to assign the task to (online)', example: 'persona-echo' })
  @IsString() @Matches(ID_PATTERN, { message: 'agentId must match ^[A-Za-z0-9_-]{1,64}$' })
  agentId: string;
}

export class SubmitBidDto implements SubmitBidRequest {
  @ApiProperty({ description: 'Bid in whole sats', minimum: 1, maximum: 1_000_000, example: 42 })
  @IsInt() @Min(1) @Max(1_000_000)
  bidSats: number;
}

export class CompleteTaskDto implements CompleteTaskRequest {
  @ApiProperty({ example: 'Summary: ...', maxLength: 100_000 }) @IsString() @MaxLength(100_000)
  result: string;
}

export class FailTaskDto implements FailTaskRequest {
  @ApiProperty({ example: 'upstream API unavailable', maxLength: 10_000 }) @IsString() @MinLength(1) @MaxLength(10_000)
  reason: string;
}

export class CancelTaskDto implements CancelTaskRequest {
  @ApiPropertyOptional({ example: 'no longer needed', maxLength: 10_000 }) @Optional() @IsString() @MinLength(1) @MaxLength(10_000)
  reason?: string;
}

export class TaskProgressDto implements TaskProgressRequest {
  @ApiProperty({ example: 'fetched 3 of 5 sources', maxLength: 1000 }) @IsString() @MinLength(1) @MaxLength(1000)
  message: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 1, example: 0.6 }) @Optional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(1)
  fraction?: number;
}

export class TaskQueryDto {
  @ApiPropertyOptional({ enum: TASK_STATUSES }) @Optional() @IsIn(TASK_STATUSES)
  status?: TaskStatus;

  @ApiPropertyOptional({ description: 'Assigned agent' }) @Optional() @Matches(ID_PATTERN, { message: 'agentId must match ^[A-Za-z0-9_-]{1,64}$' })
  agentId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class TaskResponseDto implements TaskDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: TASK_STATUSES }) status: TaskStatus;
  @ApiProperty({ nullable: true, type: String }) assignedAgentId: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Winning bid (sats)' }) winningBidSats: number | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Budget (sats): most a bid may ask; null = no budget' }) budgetSats: number | null;
  @ApiProperty({ nullable: true, type: String }) result: string | null;
  @ApiProperty({ nullable: true, type: String }) failureReason: string | null;
  @ApiProperty({ nullable: true, type: String, description: 'Username or agent id' }) createdBy: string | null;
  @ApiProperty({ nullable: true, type: String }) auctionClosesAt: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) assignedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) startedAt: string | null;
  @ApiProperty({ nullable: true, type: String }) completedAt: string | null;
  @ApiProperty() updatedAt: string;
}

export class CreateTaskResponseDto extends TaskResponseDto implements CreateTaskResponse {
  @ApiProperty({ nullable: true, type: String, description: 'Set when no agent able to do the task is available now (the task is created anyway)' })
  warning: string | null;
}

export class BidResponseDto implements BidDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() taskId: string;
  @ApiProperty() agentId: string;
  @ApiProperty({ description: 'sats' }) bidSats: number;
  @ApiProperty() won: boolean;
  @ApiProperty() createdAt: string;
}

export class TaskDetailResponseDto extends TaskResponseDto implements TaskDetailDto {
  @ApiProperty({ type: [BidResponseDto] }) bids: BidDto[];
}

export class TaskListResponseDto implements ListResponse<TaskDto> {
  @ApiProperty({ type: [TaskResponseDto] }) items: TaskDto[];
  @ApiProperty() headSeq: number;
  @ApiProperty() epoch: string;
}

export class SwarmStatusResponseDto implements SwarmStatusDto {
  @ApiProperty() agents: number;
  @ApiProperty() agentsIdle: number;
  @ApiProperty() agentsBusy: number;
  @ApiProperty() agentsOffline: number;
  @ApiProperty() tasksTotal: number;
  @ApiProperty({ example: { pending: 0, bidding: 1, assigned: 0, running: 0, completed: 3, failed: 1, cancelled: 0 } })
  tasksByStatus: Record<TaskStatus, number>;
  @ApiProperty() activeAuctions: number;
  @ApiProperty() headSeq: number;
}
