import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Optional, IsTimestamp } from '../../common/validation';
import type { AnswerQuestionRequest, AskQuestionRequest, ListResponse, QuestionDto, QuestionStatus } from '@app/contracts';
import { ID_PATTERN } from '../../common/pipes/id-param.pipe';

const QUESTION_STATUSES: QuestionStatus[] = ['open', 'answered', 'cancelled', 'expired'];

export class AskQuestionDto implements AskQuestionRequest {
  @ApiProperty({ example: 'Deploy to production now?', maxLength: 2000 }) @IsString() @MinLength(1) @MaxLength(2000)
  question: string;

  @ApiProperty({ type: [String], minItems: 1, maxItems: 20, example: ['yes', 'no', 'wait an hour'] })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(20) @IsString({ each: true }) @MinLength(1, { each: true }) @MaxLength(200, { each: true })
  options: string[];

  @ApiPropertyOptional({ default: false, description: 'Several options may be chosen' }) @Optional() @IsBoolean()
  multiple?: boolean;

  @ApiPropertyOptional({ description: 'Task the question is about' }) @Optional() @Matches(ID_PATTERN, { message: 'taskId must match ^[A-Za-z0-9_-]{1,64}$' })
  taskId?: string;

  @ApiPropertyOptional({ description: 'ISO time after which the question expires unanswered (future, <= 30 days)', example: '2026-11-21T12:00:00.000Z' })
  @Optional() @IsTimestamp()
  deadline?: string;
}

export class AnswerQuestionDto implements AnswerQuestionRequest {
  @ApiProperty({ type: [String], example: ['yes'], description: 'Chosen option(s); exactly one for single choice' })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(20) @IsString({ each: true }) @MaxLength(200, { each: true })
  answer: string[];
}

export class QuestionQueryDto {
  @ApiPropertyOptional({ enum: QUESTION_STATUSES }) @Optional() @IsIn(QUESTION_STATUSES)
  status?: QuestionStatus;

  @ApiPropertyOptional({ minimum: 1, maximum: 500, default: 100 }) @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(500)
  limit?: number;
}

export class QuestionResponseDto implements QuestionDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ nullable: true, type: String }) agentId: string | null;
  @ApiProperty({ nullable: true, type: String }) taskId: string | null;
  @ApiProperty() question: string;
  @ApiProperty({ type: [String] }) options: string[];
  @ApiProperty() multiple: boolean;
  @ApiProperty({ nullable: true, type: String }) deadline: string | null;
  @ApiProperty({ enum: QUESTION_STATUSES }) status: QuestionStatus;
  @ApiProperty({ nullable: true, type: [String] }) answer: string[] | null;
  @ApiProperty({ nullable: true, type: String }) answeredBy: string | null;
  @ApiProperty() createdAt: string;
  @ApiProperty({ nullable: true, type: String }) resolvedAt: string | null;
}

export class QuestionListResponseDto implements ListResponse<QuestionDto> {
  @ApiProperty({ type: [QuestionResponseDto] }) items: QuestionDto[];
  @ApiProperty() headSeq: number;
  @ApiProperty() epoch: string;
}
