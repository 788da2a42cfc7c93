import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiCookieAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Principal, UpgradeConfigDto, UpgradeDetailDto, UpgradeListDto, UpgradeLogsDto } from '@app/contracts';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../common/app-error';
import { ApiErrors } from '../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../common/decorators/auth.decorators';
import { ProposeBranchDto, ProposeDiffDto, ProposeRawDiffQueryDto, UpgradeCancelDto, UpgradeDecisionDto, UpgradeListQueryDto } from './dto/upgrade.dto';
import { UpgradeConfigResponseDto, UpgradeDetailResponseDto, UpgradeListResponseDto, UpgradeLogsResponseDto } from './dto/upgrade-responses.dto';
import { UpgradeQueueService, actorOf } from './upgrade-queue.service';
import { UpgradeIdPipe } from './upgrade-id.pipe';

/**
 * `/api/upgrades`: agents propose (branch or diff), operators approve / reject, the queue tests and applies.
 * When the queue is off every route but `config` answers 503 `upgrade/disabled` with how to turn it on.
 */
@ApiTags('upgrades')
@ApiBearerAuth()
@ApiCookieAuth('mc_session')
@Controller('api/upgrades')
export class UpgradeQueueController {
  constructor(private readonly upgrades: UpgradeQueueService) {}

  @Get('config')
  @ApiOperation({ summary: 'Queue status and settings (enabled, how to enable, target, commands, limits)' })
  @ApiOkResponse({ type: UpgradeConfigResponseDto })
  @ApiErrors(401)
  config(): UpgradeConfigDto {
    return this.upgrades.configDto();
  }

  @Get()
  @ApiOperation({ summary: 'Proposals newest first (no diff), with the pending count for the nav badge' })
  @ApiOkResponse({ type: UpgradeListResponseDto })
  @ApiErrors(400, 401, 503)
  list(@Query() q: UpgradeListQueryDto): Promise<UpgradeListDto> {
    this.upgrades.assertEnabled();
    return this.upgrades.list(q);
  }

  @Post('branch')
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Propose merging a branch of the upgrade repository' })
  @ApiCreatedResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 503)
  proposeBranch(@Body() dto: ProposeBranchDto, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    return this.upgrades.proposeBranch(actorOf(p), dto);
  }

  @Post('diff')
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Propose a unified diff against the target head (JSON, up to 256 KiB)' })
  @ApiCreatedResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 413, 503)
  proposeDiff(@Body() dto: ProposeDiffDto, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    return this.upgrades.proposeDiff(actorOf(p), dto);
  }

  @Post('diff/raw')
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Propose a unified diff sent as the body (`Content-Type: text/x-diff`, up to UPGRADE_MAX_DIFF_BYTES)' })
  @ApiConsumes('text/x-diff')
  @ApiBody({ schema: { type: 'string' } })
  @ApiCreatedResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 413, 503)
  proposeRawDiff(@Query() q: ProposeRawDiffQueryDto, @Req() req: FastifyRequest, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    if (typeof req.body !== 'string') throw new AppError('request/bad_request', 'Send the diff as the body with Content-Type: text/x-diff', 400);
    return this.upgrades.proposeDiff(actorOf(p), { title: q.title, rationale: q.rationale, diff: req.body });
  }

  @Get(':id')
  @ApiOperation({ summary: 'One proposal with its diff and decision audit' })
  @ApiParam({ name: 'id', description: 'Upgrade id (uuid)' })
  @ApiOkResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 404, 503)
  get(@Param('id', UpgradeIdPipe) id: string): Promise<UpgradeDetailDto> {
    this.upgrades.assertEnabled();
    return this.upgrades.get(id);
  }

  @Get(':id/logs')
  @ApiOperation({ summary: 'Test and health-check output of the latest attempt' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ type: UpgradeLogsResponseDto })
  @ApiErrors(400, 401, 404, 503)
  logs(@Param('id', UpgradeIdPipe) id: string): Promise<UpgradeLogsDto> {
    this.upgrades.assertEnabled();
    return this.upgrades.logs(id);
  }

  @Post(':id/approve')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Approve (bound to the diff sha256; the proposer cannot approve its own; protected paths need an admin)' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  approve(@Param('id', UpgradeIdPipe) id: string, @Body() dto: UpgradeDecisionDto, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    return this.upgrades.approve(actorOf(p), id, dto);
  }

  @Post(':id/reject')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Reject with a comment (sent to the proposing agent as a message)' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  reject(@Param('id', UpgradeIdPipe) id: string, @Body() dto: UpgradeDecisionDto, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    return this.upgrades.reject(actorOf(p), id, dto);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Withdraw a proposal that has not started testing (its proposer, or an operator)' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  cancel(@Param('id', UpgradeIdPipe) id: string, @Body() dto: UpgradeCancelDto, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    return this.upgrades.cancel(actorOf(p), id, dto);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Queue a failed or rolled-back upgrade again' })
  @ApiParam({ name: 'id' })
  @ApiOkResponse({ type: UpgradeDetailResponseDto })
  @ApiErrors(400, 401, 403, 404, 409, 503)
  retry(@Param('id', UpgradeIdPipe) id: string, @CurrentPrincipal() p: Principal): Promise<UpgradeDetailDto> {
    return this.upgrades.retry(actorOf(p), id);
  }
}
