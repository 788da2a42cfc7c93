import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { EventEnvelope, EventPage, EventSummary, Principal } from '@app/contracts';
import { stringify } from 'csv-stringify';
import { Readable, pipeline } from 'node:stream';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { AppError } from '../common/app-error';
import { EventEnvelopeDto, EventPageDto, EventQueryDto, EventSummaryDto, ExportQueryDto, IngestEventDto, SummaryQueryDto } from './dto/event.dto';
import { EventLogService } from './event-log.service';
import type { EventFilter } from './event-log.types';

/** Channels a viewer may not read (ledger details). */
const HIDDEN_FROM_VIEWERS = ['ledger'];

function toFilter(q: EventQueryDto, principal: Principal): EventFilter {
  return {
    types: q.type,
    source: q.source,
    agentId: q.agentId,
    taskId: q.taskId,
    channels: q.channel ? [q.channel] : undefined,
    excludeChannels: principal.role === 'viewer' ? HIDDEN_FROM_VIEWERS : undefined,
    from: q.from,
    to: q.to,
    before: q.before,
    after: q.after,
  };
}

@ApiTags('events')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/events')
export class EventLogController {
  constructor(private readonly events: EventLogService) {}

  @Get()
  @ApiOperation({ summary: 'List events with filters and seq cursor paging (newest first; oldest first with `after`)' })
  @ApiOkResponse({ type: EventPageDto })
  @ApiErrors(400, 401)
  async list(@Query() q: EventQueryDto, @CurrentPrincipal() p: Principal): Promise<EventPage> {
    const headSeq = await this.events.getHeadSeq();
    const limit = q.limit ?? 100;
    const items = await this.events.find(toFilter(q, p), limit);
    const nextCursor = items.length === limit ? items[items.length - 1].seq : null;
    return { items, headSeq, epoch: this.events.epoch, nextCursor };
  }

  @Get('summary')
  @ApiOperation({ summary: 'Count of events per type in a time window (default: last 60 minutes)' })
  @ApiOkResponse({ type: EventSummaryDto })
  @ApiErrors(400, 401)
  summary(@Query() q: SummaryQueryDto): Promise<EventSummary> {
    const to = q.to ?? new Date().toISOString();
    const from = q.from ?? new Date(Date.parse(to) - (q.minutes ?? 60) * 60_000).toISOString();
    if (Date.parse(from) > Date.parse(to)) throw new AppError('event-log/bad_window', 'from must not be after to', 400);
    return this.events.summary(from, to);
  }

  @Get('export')
  @ApiOperation({ summary: 'Export matching events in seq order as NDJSON (default) or CSV' })
  @ApiProduces('application/x-ndjson', 'text/csv')
  @ApiOkResponse({
    description: 'NDJSON: one event envelope per line. CSV: header seq,id,type,source,channel,taskId,agentId,data,createdAt (data as JSON).',
    content: {
      'application/x-ndjson': { schema: { type: 'string', example: '{"seq":1,"id":"…","type":"task.created",…}\n' } },
      'text/csv': { schema: { type: 'string', example: 'seq,id,type,source,channel,taskId,agentId,data,createdAt\n' } },
    },
  })
  @ApiErrors(400, 401)
  export(@Query() q: ExportQueryDto, @CurrentPrincipal() p: Principal): StreamableFile {
    const filter = toFilter({ ...q, before: q.before }, p);
    const format = q.format ?? 'ndjson';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const disposition = `attachment; filename="events-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`;
    // streamed with backpressure; a client that goes away stops the iteration (the stream is destroyed)
    const events = this.events.iterate(filter);
    if (format === 'ndjson') {
      const ndjson = Readable.from((async function* () {
        for await (const e of events) yield JSON.stringify(e) + '\n';
      })(), { objectMode: false });
      return new StreamableFile(ndjson, { type: 'application/x-ndjson', disposition });
    }
    const csv = stringify({
      header: true,
      columns: ['seq', 'id', 'type', 'source', 'channel', 'taskId', 'agentId', 'data', 'createdAt'],
    });
    const rows = Readable.from((async function* () {
      for await (const e of events) yield { ...e, data: JSON.stringify(e.data) };
    })());
    pipeline(rows, csv, () => undefined); // an error destroys csv, which ends the response
    return new StreamableFile(csv, { type: 'text/csv', disposition });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One event by its uuid' })
  @ApiOkResponse({ type: EventEnvelopeDto })
  @ApiErrors(400, 401, 404)
  async get(@Param('id', new ParseUUIDPipe()) id: string, @CurrentPrincipal() p: Principal): Promise<EventEnvelope> {
    const e = await this.events.getById(id);
    if (p.role === 'viewer' && HIDDEN_FROM_VIEWERS.includes(e.channel)) throw AppError.notFound('event-log/not_found', `Event ${id} not found`);
    return e;
  }

  @Post()
  @Roles('agent', 'operator')
  @ApiOperation({
    summary: 'Append a tool.* event (agents report their own tool calls)',
    description: 'The event is attributed to the calling agent (agentId from the API key) and source `agent:<id>`.',
  })
  @ApiOkResponse({ type: EventEnvelopeDto })
  @ApiErrors(400, 401, 403, 413)
  async ingest(@Body() body: IngestEventDto, @CurrentPrincipal() p: Principal): Promise<EventEnvelope> {
    const [e] = await this.events.append([
      {
        type: body.type,
        source: p.agentId ? `agent:${p.agentId}` : `user:${p.username ?? p.apiKeyId}`,
        agentId: p.agentId,
        taskId: body.taskId ?? null,
        data: body.data ?? {},
      },
    ]);
    return e;
  }
}
