import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';
import { UPGRADE_STATES, type ProposeBranchRequest, type ProposeDiffRequest, type UpgradeDecisionRequest, type UpgradeState } from '@app/contracts';
import { MAX_COMMENT, MAX_UPGRADE_PAGE } from '../upgrade-queue.service';

export const MAX_TITLE = 200;
export const MAX_RATIONALE = 10_000;

export class ProposeBranchDto implements ProposeBranchRequest {
  @ApiProperty({ minLength: 1, maxLength: MAX_TITLE }) @IsString() @MinLength(1) @MaxLength(MAX_TITLE)
  title: string;

  @ApiPropertyOptional({ maxLength: MAX_RATIONALE }) @IsOptional() @IsString() @MaxLength(MAX_RATIONALE)
  rationale?: string;

  @ApiProperty({ description: 'Branch of the upgrade repository (`git check-ref-format --branch`)', maxLength: 255 })
  @IsString() @MinLength(1) @MaxLength(255)
  branch: string;
}

export class ProposeDiffDto implements ProposeDiffRequest {
  @ApiProperty({ minLength: 1, maxLength: MAX_TITLE }) @IsString() @MinLength(1) @MaxLength(MAX_TITLE)
  title: string;

  @ApiPropertyOptional({ maxLength: MAX_RATIONALE }) @IsOptional() @IsString() @MaxLength(MAX_RATIONALE)
  rationale?: string;

  @ApiProperty({ description: 'Unified diff against the target branch head (JSON bodies are capped at 256 KiB; larger diffs go to POST /api/upgrades/diff/raw)' })
  @IsString() @MinLength(1)
  diff: string;
}

/** Query of `POST /api/upgrades/diff/raw` (the body is the diff, `Content-Type: text/x-diff`). */
export class ProposeRawDiffQueryDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_TITLE }) @IsString() @MinLength(1) @MaxLength(MAX_TITLE)
  title: string;

  @ApiPropertyOptional({ maxLength: MAX_RATIONALE }) @IsOptional() @IsString() @MaxLength(MAX_RATIONALE)
  rationale?: string;
}

export class UpgradeDecisionDto implements UpgradeDecisionRequest {
  @ApiPropertyOptional({ maxLength: MAX_COMMENT, description: 'Reason (sent to the proposing agent on reject)' })
  @IsOptional() @IsString() @MaxLength(MAX_COMMENT)
  comment?: string;

  @ApiPropertyOptional({ description: 'sha256 of the diff you reviewed; refused with 409 `upgrade/stale_hash` when it is no longer current' })
  @IsOptional() @IsString() @Matches(/^[0-9a-f]{64}$/, { message: 'diffSha256 must be 64 lowercase hex characters' })
  diffSha256?: string;
}

export class UpgradeCancelDto {
  @ApiPropertyOptional({ maxLength: MAX_COMMENT }) @IsOptional() @IsString() @MaxLength(MAX_COMMENT)
  comment?: string;
}

const toList = ({ value }: { value: unknown }) =>
  value === undefined || value === '' ? undefined : (Array.isArray(value) ? value : String(value).split(',')).map((s) => String(s).trim()).filter(Boolean);

export class UpgradeListQueryDto {
  @ApiPropertyOptional({ description: 'Comma-separated states', example: 'proposed,queued' })
  @IsOptional() @Transform(toList) @IsArray() @ArrayMaxSize(UPGRADE_STATES.length) @IsIn(UPGRADE_STATES, { each: true })
  state?: UpgradeState[];

  @ApiPropertyOptional({ description: 'Proposing agent id' })
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  agentId?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_UPGRADE_PAGE, default: 50 })
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_UPGRADE_PAGE)
  limit?: number;
}
