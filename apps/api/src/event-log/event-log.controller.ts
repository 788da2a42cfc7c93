import { Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { ChainVerification, EventEnvelope, EventPage, EventSummary, Principal } from '@app/contracts';
import { stringify } from 'csv-stringify';
import { Readable, pipeline } from 'node:stream';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { canReadEvent, hiddenChannels } from '../auth/access-policy';
import { eventLogError } from './event-log.errors';
import { EventChainVerifier } from './hash-chain/event-chain.verifier';
import { EventEnvelopeDto, EventPageDto, EventQueryDto, EventSummaryDto, ExportQueryDto, IngestEventDto, SummaryQueryDto } from './dto/event.dto';
import { ChainVerificationDto, VerifyQueryDto } from './dto/verify.dto';
import { EventLogReader, REST_PAGE_MAX_BYTES } from './event-log.reader';
import { EventLogWriter } from './event-log.writer';
import type { EventFilter } from './event-log.types';

/** The reader's filter of a query: a short task id is resolved to the one task it names (exact match otherwise). */
async function toFilter(q: EventQueryDto, principal: Principal, reader: EventLogReader): Promise<EventFilter> {
  const taskId = q.taskId === undefined ? undefined : ((await reader.resolveTaskIdPrefix(q.taskId)) ?? q.taskId);
  return {
    types: q.type,
    excludeTypes: q.excludeType,
    source: q.source,
    agentId: q.agentId,
    taskId,
    channels: q.channel ? [q.channel] : undefined,
    excludeChannels: hiddenChannels(principal),
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
  constructor(
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly chain: EventChainVerifier,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'List events with filters and seq cursor paging (newest first; oldest first with `after`)',
    description:
      'A page holds at most `limit` events and about 4 MB of event data; `nextCursor` (a seq) continues it. ' +
      '`taskId` also takes a unique prefix of a task id (4+ characters); `excludeType` leaves types out.',
  })
  @ApiOkResponse({ type: EventPageDto })
  @ApiErrors(400, 401)
  async list(@Query() q: EventQueryDto, @CurrentPrincipal() p: Principal): Promise<EventPage> {
    const headSeq = await this.reader.getHeadSeq();
    const limit = q.limit ?? 100;
    // bounded in bytes too: a page of large events stops early and nextCursor continues it
    const { items, truncated } = await this.reader.findBounded(await toFilter(q, p, this.reader), limit, REST_PAGE_MAX_BYTES);
    const nextCursor = items.length > 0 && (items.length === limit || truncated) ? items[items.length - 1].seq : null;
    return { items, headSeq, epoch: this.reader.epoch, nextCursor };
  }

  @Get('summary')
  @ApiOperation({ summary: 'Count of events per type in a time window (default: last 60 minutes)' })
  @ApiOkResponse({ type: EventSummaryDto })
  @ApiErrors(400, 401)
  summary(@Query() q: SummaryQueryDto, @CurrentPrincipal() p: Principal): Promise<EventSummary> {
    const to = q.to ?? new Date().toISOString();
    const from = q.from ?? new Date(Date.parse(to) - (q.minutes ?? 60) * 60_000).toISOString();
    if (Date.parse(from) > Date.parse(to)) throw eventLogError('event-log/bad_window', 'from must not be after to', 400);
    return this.reader.summary(from, to, hiddenChannels(p));
  }

  @Get('verify')
  @ApiOperation({
    summary: 'Recompute the tamper-evident hash chain (sha256 over each row and the previous hash) and report the first break',
    description: 'Without from/to: the whole kept log, starting from the hash recorded at the last prune. `headHash` can be anchored elsewhere.',
  })
  @ApiOkResponse({ type: ChainVerificationDto })
  @ApiErrors(400, 401)
  verify(@Query() q: VerifyQueryDto): Promise<ChainVerification> {
    if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw eventLogError('event-log/bad_range', 'from must not be after to', 400);
    return this.chain.verify(q.from, q.to);
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
  async export(@Query() q: ExportQueryDto, @CurrentPrincipal() p: Principal): Promise<StreamableFile> {
    const filter = await toFilter({ ...q, before: q.before }, p, this.reader);
    const format = q.format ?? 'ndjson';
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const disposition = `attachment; filename="events-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`;
    // streamed with backpressure; a client that goes away stops the iteration (the stream is destroyed)
    const events = this.reader.iterate(filter);
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
    const e = await this.reader.getById(id);
    if (!canReadEvent(p, e)) throw eventLogError('event-log/not_found', `Event ${id} not found`, 404);
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
