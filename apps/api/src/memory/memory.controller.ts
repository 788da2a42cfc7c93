import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  MemoryContextResponseDto,
  MemoryEntryResponseDto,
  MemoryReindexResponseDto,
  MemorySearchResponseDto,
  MemoryStatsResponseDto,
} from './dto/memory-responses.dto';
import type { MemoryContextResponse, MemoryEntryDto, MemorySearchResponse, MemoryStatsDto } from '@app/contracts';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { Roles } from '../common/decorators/auth.decorators';
import { ContextMemoryDto, FactQueryDto, FactsAsOfQueryDto, SearchMemoryDto, SetFactDto, StoreMemoryDto } from './dto/memory.dto';
import { MemoryService } from './memory.service';

/** `/api/memory`: store, get, search, context, facts (set/history/as-of), soft delete, stats, reindex. */
@ApiTags('memory')
@ApiBearerAuth()
@ApiCookieAuth('mc_session')
@Controller('api/memory')
export class MemoryController {
  constructor(private readonly memory: MemoryService) {}

  @Post()
  @Roles('operator', 'agent')
  @ApiOperation({ summary: 'Store an entry (returns once the entry and its keyword index are committed; embedding runs in the background)' })
  @ApiCreatedResponse({ type: MemoryEntryResponseDto })
  @ApiErrors(400, 401, 403, 413)
  store(@Body() dto: StoreMemoryDto): Promise<MemoryEntryDto> {
    return this.memory.store(dto);
  }

  @Post('search')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hybrid search over the whole store after filters; hits carry score components, the response the mode used' })
  @ApiOkResponse({ type: MemorySearchResponseDto })
  @ApiErrors(400, 401)
  search(@Body() dto: SearchMemoryDto): Promise<MemorySearchResponse> {
    return this.memory.search(dto.query, { filters: dto.filters, limit: dto.limit, mode: dto.mode });
  }

  @Post('context')
  @HttpCode(200)
  @ApiOperation({ summary: 'Token-budgeted context block (personal facts first, provenance per item)' })
  @ApiOkResponse({ type: MemoryContextResponseDto })
  @ApiErrors(400, 401)
  context(@Body() dto: ContextMemoryDto): Promise<MemoryContextResponse> {
    return this.memory.getContext(dto.query, { maxTokens: dto.maxTokens, filters: dto.filters });
  }

  @Get('stats')
  @ApiOperation({ summary: 'Entries by type, embedded share, embedder status, queue lag, reindex progress' })
  @ApiOkResponse({ type: MemoryStatsResponseDto })
  @ApiErrors(401)
  stats(): Promise<MemoryStatsDto> {
    return this.memory.stats();
  }

  @Post('reindex')
  @HttpCode(202)
  @Roles('operator')
  @ApiOperation({ summary: 'Re-embed the whole store with the current model in the background (memory.reindex_* events)' })
  @ApiAcceptedResponse({ type: MemoryReindexResponseDto })
  @ApiErrors(401, 403)
  reindex(): Promise<{ model: string; total: number }> {
    return this.memory.reindex();
  }

  @Post('facts')
  @Roles('operator', 'agent')
  @ApiOperation({ summary: 'Set a fact; the open fact with the same subject/key is superseded (kept, validTo set)' })
  @ApiCreatedResponse({ type: MemoryEntryResponseDto })
  @ApiErrors(400, 401, 403)
  setFact(@Body() dto: SetFactDto): Promise<MemoryEntryDto> {
    return this.memory.setFact(dto);
  }

  @Get('facts')
  @ApiOperation({ summary: 'Currently valid facts (optionally of one subject)' })
  @ApiOkResponse({ type: [MemoryEntryResponseDto] })
  @ApiErrors(400, 401)
  facts(@Query('subject') subject?: string): Promise<MemoryEntryDto[]> {
    return this.memory.currentFacts(subject || undefined);
  }

  @Get('facts/history')
  @ApiOperation({ summary: 'Every version of one fact (subject + key), oldest first; without both, the latest 500 versions of all facts' })
  @ApiOkResponse({ type: [MemoryEntryResponseDto] })
  @ApiErrors(400, 401)
  history(@Query() q: FactQueryDto): Promise<MemoryEntryDto[]> {
    return this.memory.factHistory(q.subject, q.key);
  }

  @Get('facts/as-of')
  @ApiOperation({ summary: 'Facts that were true at an instant' })
  @ApiOkResponse({ type: [MemoryEntryResponseDto] })
  @ApiErrors(400, 401)
  asOf(@Query() q: FactsAsOfQueryDto): Promise<MemoryEntryDto[]> {
    return this.memory.factsAsOf(q.at ?? new Date().toISOString(), q.subject);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One entry by id (deleted ones with deletedAt)' })
  @ApiOkResponse({ type: MemoryEntryResponseDto })
  @ApiErrors(400, 401, 404)
  get(@Param('id', new ParseUUIDPipe()) id: string): Promise<MemoryEntryDto> {
    return this.memory.get(id);
  }

  @Delete(':id')
  @Roles('operator', 'agent')
  @ApiOperation({ summary: 'Soft delete (row kept with deletedAt; memory.deleted event)' })
  @ApiOkResponse({ type: MemoryEntryResponseDto, description: 'The entry with deletedAt set' })
  @ApiErrors(400, 401, 403, 404)
  remove(@Param('id', new ParseUUIDPipe()) id: string): Promise<MemoryEntryDto> {
    return this.memory.delete(id);
  }
}
