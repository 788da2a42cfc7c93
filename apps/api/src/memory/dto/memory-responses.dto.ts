import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  MEMORY_ENTRY_TYPES,
  MEMORY_SEARCH_MODES,
  type MemoryContextItem,
  type MemoryContextResponse,
  type MemoryEmbedderStatus,
  type MemoryEntryDto,
  type MemoryEntryType,
  type MemoryScoreComponents,
  type MemorySearchHit,
  type MemorySearchMode,
  type MemorySearchResponse,
  type MemoryStatsDto,
} from '@app/contracts';

/** Swagger shapes of the `/api/memory` responses (the wire types live in @app/contracts). */
export class MemoryEntryResponseDto implements MemoryEntryDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty() content: string;
  @ApiProperty({ enum: MEMORY_ENTRY_TYPES }) type: MemoryEntryType;
  @ApiProperty() source: string;
  @ApiPropertyOptional({ nullable: true, type: String }) agentId: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) taskId: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) sessionId: string | null;
  @ApiProperty({ type: Object }) metadata: Record<string, unknown>;
  @ApiProperty({ description: 'ISO-8601 UTC' }) createdAt: string;
  @ApiPropertyOptional({ nullable: true, type: String }) subject: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) factKey: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) validFrom: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) validTo: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) supersededBy: string | null;
  @ApiProperty({ type: [String], description: 'Embedder models with a vector of this entry' }) embeddedModels: string[];
  @ApiPropertyOptional({ nullable: true, type: String }) deletedAt: string | null;
}

export class MemoryScoreComponentsDto implements MemoryScoreComponents {
  @ApiProperty({ description: 'BM25 / best BM25 of the query' }) lexical: number;
  @ApiProperty({ description: 'cosine similarity' }) vector: number;
  @ApiProperty() neighbors: number;
  @ApiProperty() session: number;
  @ApiProperty() sourceBoost: number;
}

export class MemorySearchHitDto implements MemorySearchHit {
  @ApiProperty({ type: MemoryEntryResponseDto }) entry: MemoryEntryResponseDto;
  @ApiProperty() score: number;
  @ApiProperty({ type: MemoryScoreComponentsDto }) components: MemoryScoreComponentsDto;
}

export class MemorySearchResponseDto implements MemorySearchResponse {
  @ApiProperty({ enum: MEMORY_SEARCH_MODES }) mode: MemorySearchMode;
  @ApiPropertyOptional({ nullable: true, type: String }) model: string | null;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'e.g. embedder_unavailable, no_vectors' }) degraded: string | null;
  @ApiProperty({ type: [MemorySearchHitDto] }) hits: MemorySearchHitDto[];
}

export class MemoryContextItemDto implements MemoryContextItem {
  @ApiProperty() entryId: string;
  @ApiProperty() source: string;
  @ApiProperty() createdAt: string;
  @ApiProperty({ enum: MEMORY_ENTRY_TYPES }) type: MemoryEntryType;
  @ApiProperty() tokens: number;
  @ApiProperty() pinned: boolean;
}

export class MemoryContextResponseDto implements MemoryContextResponse {
  @ApiProperty() text: string;
  @ApiProperty() tokens: number;
  @ApiProperty() maxTokens: number;
  @ApiProperty({ enum: MEMORY_SEARCH_MODES }) mode: MemorySearchMode;
  @ApiProperty({ type: [MemoryContextItemDto] }) items: MemoryContextItemDto[];
  @ApiProperty() skipped: number;
}

export class MemoryEmbedderStatusDto implements MemoryEmbedderStatus {
  @ApiProperty() kind: string;
  @ApiProperty() model: string;
  @ApiProperty() dimension: number;
  @ApiProperty({ enum: ['ok', 'backing_off', 'unavailable'] }) state: 'ok' | 'backing_off' | 'unavailable';
  @ApiPropertyOptional({ nullable: true, type: String }) lastError: string | null;
  @ApiPropertyOptional({ nullable: true, type: String }) retryAt: string | null;
  @ApiPropertyOptional({ type: String, description: 'kind asked for by MEMORY_EMBEDDER' }) configured?: string;
  @ApiPropertyOptional({ nullable: true, type: String, description: 'why the configured embedder was unusable at boot (the chain fell back)' }) fallbackReason?: string | null;
}

export class MemoryStatsResponseDto implements MemoryStatsDto {
  @ApiProperty() total: number;
  @ApiProperty({ type: Object }) byType: Record<MemoryEntryType, number>;
  @ApiProperty() deleted: number;
  @ApiProperty() embedded: number;
  @ApiProperty() embeddedShare: number;
  @ApiProperty() queueLag: number;
  @ApiProperty({ type: MemoryEmbedderStatusDto }) embedder: MemoryEmbedderStatusDto;
  @ApiProperty({ type: Object }) vectorsByModel: Record<string, number>;
  @ApiPropertyOptional({ type: Object, nullable: true }) reindex: { running: boolean; model: string; done: number; total: number } | null;
  @ApiProperty({ enum: ['sqlite-vec', 'pgvector-hnsw', 'brute-force'] }) vectorIndex: 'sqlite-vec' | 'pgvector-hnsw' | 'brute-force';
  @ApiProperty({ example: 1234, description: 'Event-log head seq read before the counts (memory channel baseline)' }) headSeq: number;
  @ApiProperty({ description: 'Event-log epoch' }) epoch: string;
}

export class MemoryReindexResponseDto {
  @ApiProperty() model: string;
  @ApiProperty() total: number;
}
