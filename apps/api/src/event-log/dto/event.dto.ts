import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { Optional, IsTimestamp, MaxSeq } from '../../common/validation';
import {
  DOMAIN_CHANNELS,
  EVENT_TYPES,
  INGESTIBLE_EVENT_TYPES,
  type DomainChannel,
  type EventEnvelope,
  type EventType,
  type EventPage,
  type EventSummary,
  type IngestEventRequest,
  type IngestibleEventType,
} from '@app/contracts';

const ID = /^[A-Za-z0-9_-]{1,64}$/;
const toList = ({ value }: { value: unknown }) =>
  value === undefined ? undefined : (Array.isArray(value) ? value : String(value).split(',')).map((v) => String(v).trim()).filter(Boolean);

/** Filters for `GET /api/events` and the export. */
export class EventQueryDto {
  @ApiPropertyOptional({ description: 'Event type(s), comma-separated', example: 'task.created,task.assigned' })
  @Optional() @Transform(toList) @ArrayMaxSize(50) @IsIn(EVENT_TYPES, { each: true })
  type?: string[];

  @ApiPropertyOptional({ description: 'Event type(s) to leave out, comma-separated (e.g. the scheduled router.metrics_flushed)', example: 'router.metrics_flushed' })
  @Optional() @Transform(toList) @ArrayMaxSize(50) @IsIn(EVENT_TYPES, { each: true })
  excludeType?: string[];

  @ApiPropertyOptional({ example: 'coordinator' }) @Optional() @IsString() @MaxLength(100)
  source?: string;

  @ApiPropertyOptional({ enum: DOMAIN_CHANNELS }) @Optional() @IsIn(DOMAIN_CHANNELS)
  channel?: string;

  @ApiPropertyOptional() @Optional() @Matches(ID, { message: 'agentId must be an id' })
  agentId?: string;

  @ApiPropertyOptional({
    description: 'A task id, or a unique prefix of one (4+ characters, e.g. the 8 the dashboard shows); an ambiguous prefix is a 400',
    example: '3f2a9c1e',
  })
  @Optional() @Matches(ID, { message: 'taskId must be an id' })
  taskId?: string;

  @ApiPropertyOptional({ description: 'ISO-8601, inclusive', example: '2026-11-21T00:00:00.000Z' })
  @Optional() @IsTimestamp()
  from?: string;

  @ApiPropertyOptional({ description: 'ISO-8601, exclusive' }) @Optional() @IsTimestamp()
  to?: string;

  @ApiPropertyOptional({ description: 'Cursor: events with seq < before (newest first)', maximum: Number.MAX_SAFE_INTEGER })
  @Optional() @Type(() => Number) @IsInt() @Min(0) @MaxSeq()
  before?: number;

  @ApiPropertyOptional({ description: 'Cursor: events with seq > after (oldest first)', maximum: Number.MAX_SAFE_INTEGER })
  @Optional() @Type(() => Number) @IsInt() @Min(0) @MaxSeq()
  after?: number;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 1000 })
  @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(1000)
  limit?: number;
}

export class ExportQueryDto extends EventQueryDto {
  @ApiPropertyOptional({ enum: ['ndjson', 'csv'], default: 'ndjson' }) @Optional() @IsIn(['ndjson', 'csv'])
  format?: 'ndjson' | 'csv';
}

export class SummaryQueryDto {
  @ApiPropertyOptional({ description: 'Window length in minutes ending now (ignored when from is given)', default: 60 })
  @Optional() @Type(() => Number) @IsInt() @Min(1) @Max(525600)
  minutes?: number;

  @ApiPropertyOptional() @Optional() @IsTimestamp()
  from?: string;

  @ApiPropertyOptional() @Optional() @IsTimestamp()
  to?: string;
}

/** Body of `POST /api/events`: an agent appends its own tool.* events. */
export class IngestEventDto implements IngestEventRequest {
  @ApiProperty({ enum: INGESTIBLE_EVENT_TYPES, example: 'tool.called' }) @IsIn(INGESTIBLE_EVENT_TYPES)
  type: IngestibleEventType;

  @ApiPropertyOptional() @Optional() @Matches(ID, { message: 'taskId must be an id' })
  taskId?: string;

  @ApiPropertyOptional({ example: { tool: 'web_search', input: 'lightning fees' } }) @Optional() @IsObject()
  data?: Record<string, unknown>;
}

/** Swagger shape of an event envelope (EventEnvelope; `data` is the payload of `type`, see docs/events.md). */
export class EventEnvelopeDto {
  @ApiProperty({ example: 42 }) seq: number;
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: EVENT_TYPES, example: 'task.assigned' }) type: EventType;
  @ApiProperty({ example: 'coordinator' }) source: string;
  @ApiProperty({ enum: DOMAIN_CHANNELS, example: 'swarm' }) channel: DomainChannel;
  @ApiProperty({ nullable: true, type: String }) taskId: string | null;
  @ApiProperty({ nullable: true, type: String }) agentId: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { bidSats: 35 } }) data: Record<string, unknown>;
  @ApiProperty({ example: '2026-11-21T10:00:00.000Z' }) createdAt: string;
}

export class EventPageDto implements EventPage {
  @ApiProperty({ type: [EventEnvelopeDto] }) items: EventEnvelope[];
  @ApiProperty({ example: 1234 }) headSeq: number;
  @ApiProperty({ format: 'uuid' }) epoch: string;
  @ApiProperty({ nullable: true, type: Number, example: 1100 }) nextCursor: number | null;
}

export class EventSummaryDto implements EventSummary {
  @ApiProperty() from: string;
  @ApiProperty() to: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { 'task.created': 3 } })
  counts: Record<string, number>;
  @ApiProperty() total: number;
  @ApiProperty() headSeq: number;
}
