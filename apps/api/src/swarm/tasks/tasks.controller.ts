import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { BidDto, CreateTaskResponse, ListResponse, Principal, TaskDetailDto, TaskDto } from '@app/contracts';
import { AppError } from '../../common/app-error';
import { ApiErrors } from '../../common/decorators/api-errors.decorator';
import { CurrentPrincipal, Roles } from '../../common/decorators/auth.decorators';
import {
  AssignTaskDto,
  BidResponseDto,
  CancelTaskDto,
  CreateTaskResponseDto,
  CompleteTaskDto,
  CreateTaskDto,
  FailTaskDto,
  SubmitBidDto,
  TaskDetailResponseDto,
  TaskListResponseDto,
  TaskProgressDto,
  TaskQueryDto,
  TaskResponseDto,
} from '../dto/task.dto';
import { IdParamPipe } from '../../common/pipes/id-param.pipe';
import { L402Priced } from '../../ledger/l402/l402.decorator';
import { actorFrom, requireAgentId } from '../swarm.types';
import { AgentsService } from '../agents/agents.service';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@ApiBearerAuth()
@ApiCookieAuth()
@Controller('api/tasks')
export class TasksController {
  constructor(
    private readonly tasks: TasksService,
    private readonly agents: AgentsService,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Tasks newest first, filtered by status / assigned agent' })
  @ApiOkResponse({ type: TaskListResponseDto })
  @ApiErrors(400, 401)
  list(@Query() q: TaskQueryDto): Promise<ListResponse<TaskDto>> {
    return this.tasks.list(q);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One task with its bids (404 for unknown ids)' })
  @ApiOkResponse({ type: TaskDetailResponseDto })
  @ApiErrors(400, 401, 404)
  get(@Param('id', IdParamPipe) id: string): Promise<TaskDetailDto> {
    return this.tasks.get(id);
  }

  @Post()
  @Roles('operator', 'agent')
  @L402Priced('tasks')
  @ApiOperation({
    summary: 'Post a task: opens an auction (task.created, task.bidding), or assigns directly with agentId',
    description:
      'Auction window: auctionWindowMs (100..3,600,000) or AUCTION_WINDOW_MS. Lowest bid wins; ties go to the earliest bid. ' +
      '`warning` says when no agent able to do the task is available now (none online, or only personas without an LLM provider); the task is created anyway.',
  })
  @ApiCreatedResponse({ type: CreateTaskResponseDto })
  @ApiErrors(400, 401, 403, 404)
  async create(@Body() body: CreateTaskDto, @CurrentPrincipal() p: Principal): Promise<CreateTaskResponse> {
    // an L402 payer buys an auctioned task; choosing the agent (skipping the auction) stays with keys and operators
    if (p.kind === 'l402' && body.agentId) throw AppError.forbidden('l402/direct_assign_forbidden', 'An L402-paid task is auctioned: agentId is not allowed');
    const task = await this.tasks.create(body, actorFrom(p));
    return { ...task, warning: await this.agents.capacityWarning(body.agentId) };
  }

  @Post(':id/bids')
  @Roles('agent')
  @ApiOperation({
    summary: 'Bid on an open auction as the calling agent (integer sats 1..1,000,000)',
    description: 'Refused with 409 (and a `bid.rejected` event) when the auction is closed, the agent is offline or already bid, or the bid is above the task budget (`swarm/bid_over_budget`).',
  })
  @ApiCreatedResponse({ type: BidResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  bid(@Param('id', IdParamPipe) id: string, @Body() body: SubmitBidDto, @CurrentPrincipal() p: Principal): Promise<BidDto> {
    return this.tasks.submitBid(requireAgentId(p), id, body.bidSats);
  }

  @Post(':id/start')
  @HttpCode(200)
  @Roles('agent')
  @ApiOperation({ summary: 'The assigned agent starts the task (assigned -> running)' })
  @ApiOkResponse({ type: TaskResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  start(@Param('id', IdParamPipe) id: string, @CurrentPrincipal() p: Principal): Promise<TaskDto> {
    requireAgentId(p);
    return this.tasks.start(id, actorFrom(p));
  }

  @Post(':id/progress')
  @HttpCode(204)
  @Roles('agent')
  @ApiOperation({ summary: 'Progress report of the assigned agent on a running task (task.progress)' })
  @ApiNoContentResponse()
  @ApiErrors(400, 401, 403, 404, 409)
  async progress(@Param('id', IdParamPipe) id: string, @Body() body: TaskProgressDto, @CurrentPrincipal() p: Principal): Promise<void> {
    requireAgentId(p);
    await this.tasks.progress(id, actorFrom(p), body.message, body.fraction);
  }

  @Post(':id/complete')
  @HttpCode(200)
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Complete the task with a result (assigned agent, or an operator)' })
  @ApiOkResponse({ type: TaskResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  complete(@Param('id', IdParamPipe) id: string, @Body() body: CompleteTaskDto, @CurrentPrincipal() p: Principal): Promise<TaskDto> {
    return this.tasks.complete(id, actorFrom(p), body.result);
  }

  @Post(':id/fail')
  @HttpCode(200)
  @Roles('agent', 'operator')
  @ApiOperation({ summary: 'Fail the task with a reason (assigned agent, or an operator)' })
  @ApiOkResponse({ type: TaskResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  fail(@Param('id', IdParamPipe) id: string, @Body() body: FailTaskDto, @CurrentPrincipal() p: Principal): Promise<TaskDto> {
    return this.tasks.fail(id, actorFrom(p), body.reason);
  }

  @Post(':id/assign')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({
    summary: 'Assign a task to an agent (operators): mid-auction (closes the auction now) or reassign before it started',
    description:
      'From bidding: the auction closes at once (auction.closed {assignedBy}); the agent\'s bid wins if it bid, else the assignment is direct (no payout). ' +
      'From assigned (not started): the previous agent is released and its payout hold voided. 409 when running, finished, or already assigned to that agent.',
  })
  @ApiOkResponse({ type: TaskResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  assign(@Param('id', IdParamPipe) id: string, @Body() body: AssignTaskDto, @CurrentPrincipal() p: Principal): Promise<TaskDto> {
    return this.tasks.assign(id, body.agentId, actorFrom(p));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @Roles('operator')
  @ApiOperation({ summary: 'Cancel a task that has not finished (operators)' })
  @ApiOkResponse({ type: TaskResponseDto })
  @ApiErrors(400, 401, 403, 404, 409)
  cancel(@Param('id', IdParamPipe) id: string, @Body() body: CancelTaskDto, @CurrentPrincipal() p: Principal): Promise<TaskDto> {
    return this.tasks.cancel(id, actorFrom(p), body.reason);
  }
}
