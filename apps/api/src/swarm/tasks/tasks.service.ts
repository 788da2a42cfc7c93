import { InstanceRegistry } from '../../cluster/instance-registry';
import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  TASK_STATUSES,
  type BidDto,
  type CreateTaskRequest,
  type ListResponse,
  type TaskDetailDto,
  type TaskDto,
  type TaskStatus,
} from '@app/contracts';
import { DataSource, In, LessThanOrEqual, type FindOptionsWhere } from 'typeorm';
import { nowIso } from '../../common/time.util';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { execAffected } from '../../event-log/event-log.sql';
import { EventLogWriter } from '../../event-log/event-log.writer';
import { EventLogReader } from '../../event-log/event-log.reader';
import type { WriteContext } from '../../event-log/event-log.types';
import { AgentEntity } from '../entities/agent.entity';
import { BidEntity } from '../entities/bid.entity';
import { pickWinner } from '../auctions/bid.util';
import { swarmError, type SwarmErrorCode } from '../swarm.errors';
import { agentSource, preview, toBidDto, toTaskDto } from '../swarm.mappers';
import { failTaskRow, occupyAgent, releaseAgent } from '../swarm-tx.util';
import { actorLabel, type Actor } from '../swarm.types';
import { TaskEntity } from '../entities/task.entity';
import { LedgerService } from '../../ledger/ledger.service';
import { DeadlineScheduler } from '../../common/scheduling/deadline-scheduler';

/** Max tasks per list page. */
export const MAX_TASK_PAGE = 500;
/** Failure reason of an auction that closed without bids. */
export const NO_BIDS_REASON = 'no bids received';
/** Failure reason of tasks that were assigned/running when the server stopped. */
export const RESTART_REASON = 'server restarted before the task finished';

interface BidRejection {
  code: SwarmErrorCode;
  message: string;
  reason: string;
}

/**
 * Tasks and their sealed-bid auctions (lowest bid wins, ties to the earliest bid).
 *
 * Lifecycle: bidding -> assigned -> running -> completed | failed | cancelled (direct assignment skips bidding).
 * Every change is one `EventLogWriter.write` unit with its events. Each auction has a precise timer keyed on
 * `auctionClosesAt`; bids are also checked against the clock, so a bid after `auctionClosesAt` is refused even if the
 * timer has not fired yet. Amounts are integer sats.
 */
/** Deadline kind of auction close (key = task id, due at `auctionClosesAt`). */
export const AUCTION_CLOSE = 'auction.close';
/** Agent ids of personas start with this. */
const PERSONA_AGENT_PREFIX = 'persona-';

@Injectable()
export class TasksService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Tasks');
  private lastBidMs = 0;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly deadlines: DeadlineScheduler,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly instances: InstanceRegistry,
  ) {}

  onModuleInit(): void {
    this.instances.onReclaim('tasks', (tx, instanceId) => this.reclaimInTx(tx, instanceId));
    this.deadlines.register({
      kind: AUCTION_CLOSE,
      listPending: async () => {
        const rows = await this.dataSource.getRepository(TaskEntity).find({ where: { status: 'bidding' }, select: { id: true, auctionClosesAt: true } });
        return rows.filter((t) => t.auctionClosesAt).map((t) => ({ key: t.id, dueAtMs: Date.parse(t.auctionClosesAt!) }));
      },
      fire: (taskId) => this.closeAuctionOnce(taskId),
    });
  }

  onModuleDestroy(): void {
    this.stopped = true;
  }

  /** Number of auctions with an armed close timer in this process. */
  get armedAuctions(): number {
    return this.deadlines.armedCount(AUCTION_CLOSE);
  }

  // ------------------------------------------------------------------ reads

  /** Tasks newest first, filtered by status and/or assigned agent; `limit` 1..500 (default 100). */
  async list(q: { status?: TaskStatus; agentId?: string; limit?: number }): Promise<ListResponse<TaskDto>> {
    const headSeq = await this.reader.getHeadSeq();
    const where: FindOptionsWhere<TaskEntity> = {};
    if (q.status) where.status = q.status;
    if (q.agentId) where.assignedAgentId = q.agentId;
    const rows = await this.dataSource.getRepository(TaskEntity).find({
      where,
      order: { createdAt: 'DESC', id: 'ASC' },
      take: Math.min(MAX_TASK_PAGE, q.limit ?? 100),
    });
    return { items: rows.map(toTaskDto), headSeq, epoch: this.reader.epoch };
  }

  /** One task with its bids (oldest first). @throws AppError `swarm/task_not_found` (404). */
  async get(id: string): Promise<TaskDetailDto> {
    const task = await this.dataSource.getRepository(TaskEntity).findOne({ where: { id } });
    if (!task) throw notFound(id);
    const bids = await this.dataSource.getRepository(BidEntity).find({ where: { taskId: id }, order: { createdAt: 'ASC' } });
    return { ...toTaskDto(task), bids: bids.map(toBidDto) };
  }

  /** Counts of tasks per status (every status present). */
  async countByStatus(): Promise<Record<TaskStatus, number>> {
    const rows: { status: TaskStatus; n: number | string }[] = await this.dataSource
      .getRepository(TaskEntity)
      .createQueryBuilder('t')
      .select('t.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .groupBy('t.status')
      .getRawMany();
    const out = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    for (const r of rows) out[r.status] = Number(r.n);
    return out;
  }

  // ------------------------------------------------------------------ create

  /**
   * Creates a task. Without `agentId`: opens an auction of `auctionWindowMs` (default AUCTION_WINDOW_MS) and emits
   * `task.created` then `task.bidding {closesAt, windowMs}`. With `agentId`: assigns directly (`task.created`,
   * `task.assigned {direct: true}`), the agent goes busy. `budgetSats` (integer sats, validated 1..1,000,000 by the
   * DTO) is stored on the task and named in `task.created`; bids above it are refused (see `submitBid`).
   * @throws AppError `swarm/agent_not_found` (404), `swarm/agent_offline` (400) for a direct assignment.
   */
  async create(input: CreateTaskRequest, actor: Actor): Promise<TaskDto> {
    const source = actor.agentId ? agentSource(actor.agentId) : 'coordinator';
    const createdBy = actorLabel(actor);
    const id = randomUUID();
    const budgetSats = input.budgetSats ?? null;
    const created = { description: preview(input.description), createdBy, ...(budgetSats !== null ? { budgetSats } : {}) };
    if (input.agentId) {
      const agentId = input.agentId;
      const task = await this.events.write(async (tx) => {
        const agent = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
        if (!agent) throw swarmError('swarm/agent_not_found', `Agent ${agentId} not found`, 404);
        if (agent.status === 'offline') throw swarmError('swarm/agent_offline', `Agent ${agentId} is offline`, 400);
        const now = nowIso();
        const row: TaskEntity = {
          ...emptyTask(id, input.description, createdBy, now),
          budgetSats,
          status: 'assigned',
          assignedAgentId: agentId,
          assignedAt: now,
        };
        await tx.manager.insert(TaskEntity, row);
        tx.append({ type: 'task.created', source, taskId: id, data: created });
        tx.append({ type: 'task.assigned', source: 'coordinator', taskId: id, agentId, data: { direct: true, bidSats: null } });
        await occupyAgent(tx, agent, `assigned task ${id}`);
        return row;
      });
      return toTaskDto(task);
    }
    const windowMs = input.auctionWindowMs ?? this.config.AUCTION_WINDOW_MS;
    const task = await this.events.write(async (tx) => {
      const now = new Date();
      const closesAt = new Date(now.getTime() + windowMs).toISOString();
      const row: TaskEntity = { ...emptyTask(id, input.description, createdBy, now.toISOString()), budgetSats, status: 'bidding', auctionClosesAt: closesAt };
      await tx.manager.insert(TaskEntity, row);
      tx.append({ type: 'task.created', source, taskId: id, data: created });
      tx.append({ type: 'task.bidding', source: 'coordinator', taskId: id, data: { closesAt, windowMs } });
      return row;
    });
    this.armAuction(task.id, task.auctionClosesAt!);
    return toTaskDto(task);
  }

  // ------------------------------------------------------------------ bids

  /**
   * Records a bid of `agentId` (integer sats) on an open auction: `bid.submitted {bidSats}`.
   * Refusals are recorded as `bid.rejected {reason, bidSats, code}` and thrown as 409:
   * `swarm/auction_closed` (now > auctionClosesAt, "auction closed at <time>"), `swarm/task_not_bidding`,
   * `swarm/agent_offline`, `swarm/duplicate_bid`, `swarm/bid_over_budget` (bidSats > the task's budgetSats; the event
   * also carries `budgetSats`). A bid equal to the budget is accepted.
   * @throws AppError `swarm/task_not_found` / `swarm/agent_not_found` (404) without any event.
   */
  async submitBid(agentId: string, taskId: string, bidSats: number, source = agentSource(agentId)): Promise<BidDto> {
    const outcome = await this.events.write((tx) => this.submitBidInTx(tx, agentId, taskId, bidSats, source));
    if ('rejected' in outcome) throw swarmError(outcome.rejected.code, outcome.rejected.message, 409);
    return toBidDto(outcome.bid);
  }

  /**
   * `submitBid` inside another unit of work: a refusal is recorded (`bid.rejected`) and returned, not thrown.
   * @throws AppError `swarm/task_not_found` / `swarm/agent_not_found` (404).
   */
  async submitBidInTx(
    tx: WriteContext,
    agentId: string,
    taskId: string,
    bidSats: number,
    source = agentSource(agentId),
  ): Promise<{ bid: BidEntity } | { rejected: BidRejection }> {
    {
      const task = await tx.manager.findOne(TaskEntity, { where: { id: taskId } });
      if (!task) throw notFound(taskId);
      const agent = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!agent) throw swarmError('swarm/agent_not_found', `Agent ${agentId} not found`, 404);
      const nowMs = Date.now();
      const rejected = await this.checkBid(tx, task, agent, bidSats, nowMs);
      if (rejected) {
        const overBudget = rejected.code === 'swarm/bid_over_budget' && task.budgetSats !== null ? { budgetSats: task.budgetSats } : {};
        tx.append({ type: 'bid.rejected', source, taskId, agentId, data: { reason: rejected.reason, bidSats, code: rejected.code, ...overBudget } });
        return { rejected };
      }
      // Strictly increasing stamps keep "ties go to the earliest bid" exact, never past the close time.
      const closesMs = Date.parse(task.auctionClosesAt!);
      const stampMs = Math.max(nowMs, Math.min(this.lastBidMs + 1, closesMs));
      this.lastBidMs = stampMs;
      const createdAt = new Date(stampMs).toISOString();
      const bid: BidEntity = { id: randomUUID(), taskId, agentId, bidSats, won: false, createdAt, updatedAt: createdAt };
      await tx.manager.insert(BidEntity, bid);
      tx.append({ type: 'bid.submitted', source, taskId, agentId, data: { bidSats, bidId: bid.id } });
      return { bid };
    }
  }

  private async checkBid(tx: WriteContext, task: TaskEntity, agent: AgentEntity, bidSats: number, nowMs: number): Promise<BidRejection | null> {
    if (task.auctionClosesAt && nowMs > Date.parse(task.auctionClosesAt)) {
      return { code: 'swarm/auction_closed', reason: 'auction closed', message: `auction closed at ${task.auctionClosesAt}` };
    }
    if (task.status !== 'bidding') {
      return { code: 'swarm/task_not_bidding', reason: 'task not bidding', message: `Task ${task.id} is ${task.status}, not open for bids` };
    }
    if (agent.status === 'offline') {
      return { code: 'swarm/agent_offline', reason: 'agent offline', message: `Agent ${agent.id} is offline; join or heartbeat first` };
    }
    if (await tx.manager.exists(BidEntity, { where: { taskId: task.id, agentId: agent.id } })) {
      return { code: 'swarm/duplicate_bid', reason: 'duplicate bid', message: `Agent ${agent.id} already bid on task ${task.id}` };
    }
    if (task.budgetSats !== null && bidSats > task.budgetSats) {
      return {
        code: 'swarm/bid_over_budget',
        reason: 'bid over budget',
        message: `Bid of ${bidSats} sats exceeds the task's budget of ${task.budgetSats} sats`,
      };
    }
    return null;
  }

  private armAuction(taskId: string, closesAt: string): void {
    if (this.stopped) return;
    this.deadlines.arm(AUCTION_CLOSE, taskId, Date.parse(closesAt));
  }

  /**
   * Closes a task's auction if it is still bidding and its window has ended: winner = lowest bid among bids created at
   * or before `auctionClosesAt`, ties to the earliest. Emits `auction.closed {winnerAgentId, winningBidSats, bidCount}`
   * then `task.assigned {bidSats}` (bid won, agent busy) or `task.failed {reason: 'no bids received'}`.
   * Returns false when there was nothing to close.
   */
  async closeAuction(taskId: string): Promise<boolean> {
    const result = await this.closeAuctionOnce(taskId);
    if (result === 'early') {
      const task = await this.dataSource.getRepository(TaskEntity).findOne({ where: { id: taskId } });
      if (task?.auctionClosesAt) this.armAuction(taskId, task.auctionClosesAt);
    }
    return result === 'fired';
  }

  /** The auction-close deadline's action: closes once across instances (see closeInTx's claim). */
  private closeAuctionOnce(taskId: string): Promise<'fired' | 'nothing' | 'early'> {
    return this.events.write(async (tx) => {
      const task = await tx.manager.findOne(TaskEntity, { where: { id: taskId } });
      if (!task || task.status !== 'bidding' || !task.auctionClosesAt) return 'nothing' as const;
      if (Date.now() < Date.parse(task.auctionClosesAt)) return 'early' as const;
      return (await this.closeInTx(tx, task)) ? ('fired' as const) : ('nothing' as const);
    });
  }

  /**
   * Closes the auction inside `tx`. The first statement claims the close with a conditional update
   * (`status: bidding -> pending`, the auction's own intermediate state), so of several instances whose timers fire
   * together exactly one closes it; the others see 0 rows and do nothing. Returns false when the claim was lost.
   */
  private async closeInTx(tx: WriteContext, task: TaskEntity): Promise<boolean> {
    const claimed = await execAffected(tx.manager, `UPDATE tasks SET status = 'pending' WHERE id = ${this.param(1)} AND status = 'bidding'`, [task.id]);
    if (claimed !== 1) return false;
    const closesAt = task.auctionClosesAt!;
    const bids = await tx.manager.find(BidEntity, {
      where: { taskId: task.id, createdAt: LessThanOrEqual(closesAt) },
      order: { createdAt: 'ASC' },
    });
    const winner = pickWinner(bids.map((b) => ({ ...b, bidSats: Number(b.bidSats) })));
    tx.append({
      type: 'auction.closed',
      source: 'coordinator',
      taskId: task.id,
      agentId: winner?.agentId ?? null,
      data: { winnerAgentId: winner?.agentId ?? null, winningBidSats: winner?.bidSats ?? null, bidCount: bids.length, closesAt },
    });
    if (!winner) {
      await failTaskRow(tx, task, NO_BIDS_REASON, 'coordinator');
      return true;
    }
    // the winning bid is held from the treasury for the agent in this unit; a treasury that cannot cover it fails the task
    const hold = await this.ledger.holdTaskPayoutInTx(tx, { taskId: task.id, agentId: winner.agentId, bidSats: winner.bidSats });
    if (!hold.ok) {
      await failTaskRow(tx, task, hold.reason, 'coordinator', { code: 'ledger/insufficient_funds', winnerAgentId: winner.agentId });
      return true;
    }
    const now = nowIso();
    await tx.manager.update(BidEntity, { id: winner.id }, { won: true, updatedAt: now });
    Object.assign(task, { status: 'assigned', assignedAgentId: winner.agentId, winningBidSats: winner.bidSats, assignedAt: now, updatedAt: now });
    await tx.manager.update(TaskEntity, { id: task.id }, {
      status: 'assigned',
      assignedAgentId: winner.agentId,
      winningBidSats: winner.bidSats,
      assignedAt: now,
      updatedAt: now,
    });
    tx.append({ type: 'task.assigned', source: 'coordinator', taskId: task.id, agentId: winner.agentId, data: { bidSats: winner.bidSats, direct: false } });
    const agent = await tx.manager.findOne(AgentEntity, { where: { id: winner.agentId } });
    if (agent) await occupyAgent(tx, agent, `won task ${task.id}`);
    return true;
  }

  private param(i: number): string {
    return this.dataSource.options.type === 'postgres' ? `$${i}` : '?';
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * assigned -> running by the assigned agent (`task.started`).
   * @throws 404 `swarm/task_not_found`, 403 `swarm/not_assignee`, 409 `swarm/invalid_transition`.
   */
  async start(taskId: string, actor: Actor, runningOn: string | null = null): Promise<TaskDto> {
    return toTaskDto(await this.events.write((tx) => this.startInTx(tx, taskId, actor, runningOn)));
  }

  /**
   * `start` inside another unit of work (a durable consumer's). `runningOn` is the instance (`InstanceRegistry.id`)
   * that executes the work when the server does it (personas); null when the agent does (external agents). Same
   * errors as start.
   */
  startInTx(tx: WriteContext, taskId: string, actor: Actor, runningOn: string | null = null): Promise<TaskEntity> {
    return this.transitionInTx(tx, taskId, actor, { from: ['assigned'], operatorMay: false }, async (tx, task, source) => {
      const now = nowIso();
      Object.assign(task, { status: 'running', startedAt: now, updatedAt: now, runningOn });
      await tx.manager.update(TaskEntity, { id: task.id }, { status: 'running', startedAt: now, updatedAt: now, runningOn });
      tx.append({ type: 'task.started', source, taskId: task.id, agentId: task.assignedAgentId, data: {} });
    });
  }

  /** `fail` inside another unit of work (the assignee went away before it could start). Same errors as fail. */
  failInTx(tx: WriteContext, taskId: string, actor: Actor, reason: string): Promise<TaskEntity> {
    return this.transitionInTx(tx, taskId, actor, { from: ['assigned', 'running'], operatorMay: true }, async (tx, task, source) => {
      await failTaskRow(tx, task, reason, source, { by: actorLabel(actor) });
      await releaseAgent(tx, task.assignedAgentId, `finished task ${task.id}`);
    });
  }

  /** Progress report of the assigned agent on a running task (`task.progress {message, fraction}`). Same errors as start. */
  async progress(taskId: string, actor: Actor, message: string, fraction?: number): Promise<void> {
    await this.transition(taskId, actor, { from: ['running'], operatorMay: false }, (tx, task, source) => {
      tx.append({ type: 'task.progress', source, taskId: task.id, agentId: task.assignedAgentId, data: { message: preview(message, 1000), fraction: fraction ?? null } });
      return Promise.resolve();
    });
  }

  /** assigned|running -> completed (`task.completed {result}`) by the assignee or an operator; the agent goes idle. */
  async complete(taskId: string, actor: Actor, result: string): Promise<TaskDto> {
    return this.transition(taskId, actor, { from: ['assigned', 'running'], operatorMay: true }, async (tx, task, source) => {
      const now = nowIso();
      Object.assign(task, { status: 'completed', result, completedAt: now, updatedAt: now });
      await tx.manager.update(TaskEntity, { id: task.id }, { status: 'completed', result, completedAt: now, updatedAt: now });
      tx.append({
        type: 'task.completed',
        source,
        taskId: task.id,
        agentId: task.assignedAgentId,
        data: { result: preview(result, 2000), bidSats: task.winningBidSats, by: actorLabel(actor) },
      });
      await this.ledger.postTaskPayoutInTx(tx, task.id); // the payout commits with task.completed
      await releaseAgent(tx, task.assignedAgentId, `finished task ${task.id}`);
    });
  }

  /** assigned|running -> failed (`task.failed {reason}`) by the assignee or an operator; the agent goes idle. */
  async fail(taskId: string, actor: Actor, reason: string): Promise<TaskDto> {
    return this.transition(taskId, actor, { from: ['assigned', 'running'], operatorMay: true }, async (tx, task, source) => {
      await failTaskRow(tx, task, reason, source, { by: actorLabel(actor) });
      await releaseAgent(tx, task.assignedAgentId, `finished task ${task.id}`);
    });
  }

  /**
   * An operator assigns a task to an agent: while its auction is still open (the auction closes now: `auction.closed
   * {assignedBy}`, the timer is disarmed; the agent's bid wins and is held for payout if it bid, otherwise the
   * assignment is direct with no payout), or while it is assigned and not started yet (reassignment: the previous
   * agent is released and any payout hold voided; the new assignment is direct with no payout).
   * Appends `task.assigned {bidSats, direct, by, reassignedFrom}`; the agent goes busy.
   * @throws 404 `swarm/task_not_found` / `swarm/agent_not_found`, 400 `swarm/agent_offline`, 403 `swarm/not_assignee`
   *   (not an operator), 409 `swarm/invalid_transition` (running or finished, already assigned to that agent, or the
   *   auction closed meanwhile). Nothing changes on any error.
   */
  async assign(taskId: string, agentId: string, actor: Actor): Promise<TaskDto> {
    if (!actor.operator) throw swarmError('swarm/not_assignee', 'Only operators may assign tasks', 403);
    const by = actorLabel(actor);
    const dto = await this.events.write(async (tx) => {
      const task = await tx.manager.findOne(TaskEntity, { where: { id: taskId } });
      if (!task) throw notFound(taskId);
      const agent = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!agent) throw swarmError('swarm/agent_not_found', `Agent ${agentId} not found`, 404);
      if (agent.status === 'offline') throw swarmError('swarm/agent_offline', `Agent ${agentId} is offline`, 400);
      if (task.status !== 'bidding' && task.status !== 'assigned') {
        throw swarmError('swarm/invalid_transition', `Task ${taskId} is ${task.status}; it can be assigned while bidding or assigned (not started)`, 409, { status: task.status });
      }
      if (task.status === 'assigned' && task.assignedAgentId === agentId) {
        throw swarmError('swarm/invalid_transition', `Task ${taskId} is already assigned to ${agentId}`, 409, { status: task.status });
      }
      const now = nowIso();
      let bidSats: number | null = null;
      const previous = task.assignedAgentId;
      if (task.status === 'bidding') {
        // the same claim as the auction close: of an operator and a firing timer exactly one wins
        const claimed = await execAffected(tx.manager, `UPDATE tasks SET status = 'pending' WHERE id = ${this.param(1)} AND status = 'bidding'`, [task.id]);
        if (claimed !== 1) throw swarmError('swarm/invalid_transition', `The auction of task ${taskId} closed meanwhile`, 409, { status: 'pending' });
        const bids = await tx.manager.find(BidEntity, { where: { taskId: task.id } });
        const own = bids.find((b) => b.agentId === agentId) ?? null;
        tx.append({
          type: 'auction.closed',
          source: 'coordinator',
          taskId: task.id,
          agentId,
          data: { winnerAgentId: agentId, winningBidSats: own ? Number(own.bidSats) : null, bidCount: bids.length, closesAt: task.auctionClosesAt ?? now, assignedBy: by },
        });
        if (own) {
          const hold = await this.ledger.holdTaskPayoutInTx(tx, { taskId: task.id, agentId, bidSats: Number(own.bidSats) });
          if (!hold.ok) throw swarmError('swarm/invalid_transition', hold.reason, 409, { status: 'bidding' });
          await tx.manager.update(BidEntity, { id: own.id }, { won: true, updatedAt: now });
          bidSats = Number(own.bidSats);
        }
      } else {
        await this.ledger.voidTaskPayoutInTx(tx, task.id, `reassigned by ${by}`);
        if (previous) await tx.manager.update(BidEntity, { taskId: task.id, agentId: previous }, { won: false, updatedAt: now });
      }
      Object.assign(task, { status: 'assigned', assignedAgentId: agentId, winningBidSats: bidSats, assignedAt: now, updatedAt: now });
      await tx.manager.update(TaskEntity, { id: task.id }, { status: 'assigned', assignedAgentId: agentId, winningBidSats: bidSats, assignedAt: now, updatedAt: now });
      tx.append({ type: 'task.assigned', source: 'coordinator', taskId: task.id, agentId, data: { bidSats, direct: bidSats === null, by, reassignedFrom: previous } });
      await releaseAgent(tx, previous, `task ${task.id} reassigned to ${agentId}`);
      await occupyAgent(tx, agent, `assigned task ${task.id} by ${by}`);
      return toTaskDto(task);
    });
    this.deadlines.disarm(AUCTION_CLOSE, taskId);
    return dto;
  }

  /** pending|bidding|assigned|running -> cancelled by an operator (`task.cancelled {reason}`); the agent goes idle. */
  async cancel(taskId: string, actor: Actor, reason?: string): Promise<TaskDto> {
    const dto = await this.transition(
      taskId,
      actor,
      { from: ['pending', 'bidding', 'assigned', 'running'], operatorMay: true, operatorOnly: true },
      async (tx, task, source) => {
        const now = nowIso();
        const why = reason ?? 'cancelled by operator';
        Object.assign(task, { status: 'cancelled', failureReason: why, completedAt: now, updatedAt: now });
        await tx.manager.update(TaskEntity, { id: task.id }, { status: 'cancelled', failureReason: why, completedAt: now, updatedAt: now });
        tx.append({ type: 'task.cancelled', source, taskId: task.id, agentId: task.assignedAgentId, data: { reason: why, by: actorLabel(actor) } });
        await releaseAgent(tx, task.assignedAgentId, `task ${task.id} cancelled`);
      },
    );
    this.deadlines.disarm(AUCTION_CLOSE, taskId);
    return dto;
  }

  private async transition(
    taskId: string,
    actor: Actor,
    rule: { from: TaskStatus[]; operatorMay: boolean; operatorOnly?: boolean },
    apply: (tx: WriteContext, task: TaskEntity, source: string) => Promise<void>,
  ): Promise<TaskDto> {
    return toTaskDto(await this.events.write((tx) => this.transitionInTx(tx, taskId, actor, rule, apply)));
  }

  private async transitionInTx(
    tx: WriteContext,
    taskId: string,
    actor: Actor,
    rule: { from: TaskStatus[]; operatorMay: boolean; operatorOnly?: boolean },
    apply: (tx: WriteContext, task: TaskEntity, source: string) => Promise<void>,
  ): Promise<TaskEntity> {
    {
      const row = await tx.manager.findOne(TaskEntity, { where: { id: taskId } });
      if (!row) throw notFound(taskId);
      const isAssignee = actor.agentId !== null && actor.agentId === row.assignedAgentId;
      const allowed = rule.operatorOnly ? actor.operator : isAssignee || (rule.operatorMay && actor.operator);
      if (!allowed) {
        throw swarmError(
          'swarm/not_assignee',
          rule.operatorOnly ? 'Only operators may do this' : `Task ${taskId} is not assigned to ${actor.agentId ?? 'you'}`,
          403,
        );
      }
      if (!rule.from.includes(row.status)) {
        throw swarmError('swarm/invalid_transition', `Task ${taskId} is ${row.status}; allowed from ${rule.from.join(', ')}`, 409, {
          status: row.status,
        });
      }
      const source = actor.agentId ? agentSource(actor.agentId) : 'coordinator';
      await apply(tx, row, source);
      return row;
    }
  }

  // ------------------------------------------------------------------ restart recovery

  /**
   * Restart recovery, step 1: running tasks, and assigned tasks of external agents, fail with "server restarted
   * before the task finished" (`task.failed {reason, recovered: true}`) and their agents are released. Tasks assigned
   * to a persona that has not started them stay assigned: the personas' durable consumer replays their
   * `task.assigned` and starts them once (durable consumers start at bootstrap too, so a task this instance already
   * started again, `runningOn` = this instance, is not failed). Returns how many failed.
   */
  async failInterruptedTasks(): Promise<number> {
    return this.events.write(async (tx) => {
      const rows = (await tx.manager.find(TaskEntity, { where: { status: In(['assigned', 'running']) } })).filter(
        (t) => (t.status === 'running' && t.runningOn !== this.instances.id) || (t.status === 'assigned' && !t.assignedAgentId?.startsWith(PERSONA_AGENT_PREFIX)),
      );
      for (const t of rows) {
        await failTaskRow(tx, t, RESTART_REASON, 'coordinator', { recovered: true });
        await releaseAgent(tx, t.assignedAgentId, 'server restarted');
      }
      return rows.length;
    });
  }

  /**
   * Reclaim handler (InstanceRegistry): tasks a gone instance was executing (`runningOn`, personas' work) fail with
   * "server restarted before the task finished" (`task.failed {reason, recovered: true, instanceId}`) and their agents
   * are released, inside `tx`. External agents' tasks are not touched: their agent, not an instance, owns them.
   */
  async reclaimInTx(tx: WriteContext, instanceId: string): Promise<{ tasksFailed: number }> {
    const rows = await tx.manager.find(TaskEntity, { where: { status: 'running', runningOn: instanceId } });
    for (const t of rows) {
      await failTaskRow(tx, t, RESTART_REASON, 'coordinator', { recovered: true, instanceId });
      await releaseAgent(tx, t.assignedAgentId, 'server restarted');
    }
    return { tasksFailed: rows.length };
  }

  /** Re-arms open auctions and closes those whose window ended while the server was down. */
  async resumeAuctions(): Promise<{ auctionsRearmed: number; auctionsClosed: number }> {
    const { fired, armed } = await this.deadlines.resume(AUCTION_CLOSE);
    return { auctionsRearmed: armed, auctionsClosed: fired };
  }
}

function notFound(id: string) {
  return swarmError('swarm/task_not_found', `Task ${id} not found`, 404);
}

function emptyTask(id: string, description: string, createdBy: string, now: string): TaskEntity {
  return {
    id,
    description,
    status: 'pending',
    assignedAgentId: null,
    winningBidSats: null,
    budgetSats: null,
    result: null,
    failureReason: null,
    createdBy,
    auctionClosesAt: null,
    createdAt: now,
    assignedAt: null,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    runningOn: null,
  };
}
