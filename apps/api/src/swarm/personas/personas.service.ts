import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { AgentDto, AgentLifecycleState, EventEnvelope, PersonaDto, PersonaId, TaskDto } from '@app/contracts';
import { DataSource, EntityManager, IsNull, Not } from 'typeorm';
import { AppError } from '../../common/app-error';
import { nowIso } from '../../common/time.util';
import { InstanceRegistry } from '../../cluster/instance-registry';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventConsumersService } from '../../event-log/consumers/event-consumers.service';
import { EventLogWriter } from '../../event-log/event-log.writer';
import type { WriteContext } from '../../event-log/event-log.types';
import { AgentEntity } from '../entities/agent.entity';
import { BidEntity } from '../entities/bid.entity';
import { defaultRandInt, learnerStats, personaRawBid, suggestBid, type LearnerOutcome, type RandInt } from '../auctions/bid.util';
import { PERSONA_EXECUTOR, type PersonaExecutor, type PersonaWorkReport } from './persona-executor';
import { findPersona, PERSONAS, personaAgentId, type PersonaDefinition } from './personas.constants';
import { swarmError } from '../swarm.errors';
import { agentSource, toAgentDto, toTaskDto } from '../swarm.mappers';
import { failActiveTasksOf, setAgentStatus } from '../swarm-tx.util';
import { actorLabel, personaActor, type Actor } from '../swarm.types';
import { TaskEntity } from '../entities/task.entity';
import { TasksService } from '../tasks/tasks.service';

/** Name of the personas' durable consumer (its cursor row in `event_consumers`). */
export const PERSONAS_CONSUMER = 'swarm.personas';

/** Largest bid accepted by the API (sats). */
export const MAX_BID_SATS = 1_000_000;

/** Wire shape of a persona definition plus the agent running it (null when not spawned). */
export function toPersonaDto(def: PersonaDefinition, agentId: string | null): PersonaDto {
  return {
    id: def.id,
    name: def.name,
    role: def.role,
    description: def.description,
    capabilities: [...def.capabilities],
    preferredKeywords: [...def.preferredKeywords],
    rateSats: def.rateSats,
    baseBidSats: def.baseBidSats,
    jitterSats: def.jitterSats,
    agentId,
  };
}

/**
 * The nine built-in personas as in-process agents (`persona-<id>`).
 *
 * Operators spawn/stop/restart them (with `agent.lifecycle {state, since}` transients set then cleared). Spawned personas
 * bid on every task that opens for bidding (prototype rule + learner adjustment, reacting to committed `task.bidding`
 * events), and run the tasks they win through the injected `PersonaExecutor`:
 * task.assigned -> task.started -> tool.* -> task.completed | task.failed (source `persona:<id>`).
 */
@Injectable()
export class PersonasService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Personas');
  private readonly executing = new Set<string>();
  private stopped = false;
  /** Randomness of the bid rule (replaceable for deterministic tests of this service). */
  rand: RandInt = defaultRandInt;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly tasks: TasksService,
    private readonly consumers: EventConsumersService,
    @Inject(PERSONA_EXECUTOR) private readonly executor: PersonaExecutor,
    private readonly instances: InstanceRegistry,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /**
   * Personas react to the log through a durable consumer (`swarm.personas`): bids on `task.bidding` and the start of
   * a won task on `task.assigned` commit together with the consumer's cursor, so a crash between the auction's
   * commit and the reaction replays it after restart, and it happens once. The work itself (the LLM call) runs
   * after that commit, on this instance (`tasks.runningOn`); a crash during it leaves the task running, which restart
   * recovery fails (or, with live peers, the instance lease's reclaim: ADR 0061).
   */
  onModuleInit(): void {
    this.instances.onReclaim('personas', async (tx) => ({ transientsCleared: await this.clearStaleTransientsInTx(tx, Date.now() - this.config.INSTANCE_LEASE_MS) }));
    this.consumers.register({
      name: PERSONAS_CONSUMER,
      types: ['task.bidding', 'task.assigned'],
      batchSize: 50,
      handle: (events, tx) => this.react(events, tx),
    });
  }

  onModuleDestroy(): void {
    this.stopped = true;
  }

  /** The nine personas, each with the id of its agent when spawned (not offline). */
  async list(): Promise<PersonaDto[]> {
    const rows = await this.dataSource.getRepository(AgentEntity).find({ where: { kind: 'persona' } });
    const running = new Map(rows.filter((r) => r.status !== 'offline').map((r) => [r.personaId, r.id]));
    return PERSONAS.map((p) => toPersonaDto(p, running.get(p.id) ?? null));
  }

  /** @throws AppError `swarm/persona_not_found` (404). */
  definition(id: string): PersonaDefinition {
    const def = findPersona(id);
    if (!def) throw swarmError('swarm/persona_not_found', `Unknown persona "${id}"; known: ${PERSONAS.map((p) => p.id).join(', ')}`, 404);
    return def;
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Spawns a persona: `agent.lifecycle {state: 'spawning'}`, then idle with `agent.lifecycle {state: null}`,
   * `agent.joined` and `agent.status_changed`. Tasks still assigned to it are picked up.
   * @throws 404 `swarm/persona_not_found`, 409 `swarm/persona_running` (already running or in a transient).
   */
  async spawn(personaId: string, actor: Actor): Promise<AgentDto> {
    const def = this.definition(personaId);
    await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: personaAgentId(def.id) } });
      if (row?.lifecycle) throw swarmError('swarm/persona_running', `Persona ${def.id} is ${row.lifecycle}`, 409);
      if (row && row.status !== 'offline') throw swarmError('swarm/persona_running', `Persona ${def.id} is already running`, 409);
      await this.enterTransient(tx, def, row, 'spawning', actor);
    });
    const agent = await this.events.write(async (tx) => {
      const row = await this.row(tx, def);
      await setAgentStatus(tx, row, 'idle', 'spawned');
      await this.leaveTransient(tx, row);
      tx.append({ type: 'agent.joined', source: 'coordinator', agentId: row.id, data: { name: row.name, kind: 'persona', personaId: def.id, capabilities: row.capabilities } });
      return row;
    });
    this.pickUpAssigned(agent.id);
    return toAgentDto(agent, agent.status === 'offline' ? null : this.executor.unavailableReason());
  }

  /**
   * Stops a persona: `agent.lifecycle {state: 'stopping'}`, its active tasks fail ("persona stopped"), offline,
   * `agent.lifecycle {state: null}`, `agent.left {reason: 'stopped'}`.
   * @throws 404 `swarm/persona_not_found`, 409 `swarm/persona_not_running` / `swarm/persona_running` (in a transient).
   */
  async stop(personaId: string, actor: Actor): Promise<AgentDto> {
    const def = this.definition(personaId);
    await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: personaAgentId(def.id) } });
      if (!row || row.status === 'offline') throw swarmError('swarm/persona_not_running', `Persona ${def.id} is not running`, 409);
      if (row.lifecycle) throw swarmError('swarm/persona_running', `Persona ${def.id} is ${row.lifecycle}`, 409);
      await this.enterTransient(tx, def, row, 'stopping', actor);
    });
    const agent = await this.events.write(async (tx) => {
      const row = await this.row(tx, def);
      const failed = await failActiveTasksOf(tx, row.id, `persona ${def.id} stopped`, 'coordinator');
      await setAgentStatus(tx, row, 'offline', 'stopped');
      await this.leaveTransient(tx, row);
      tx.append({ type: 'agent.left', source: 'coordinator', agentId: row.id, data: { name: row.name, reason: 'stopped', tasksFailed: failed.length } });
      return row;
    });
    return toAgentDto(agent, agent.status === 'offline' ? null : this.executor.unavailableReason());
  }

  /**
   * Restarts a persona (running or not): `agent.lifecycle {state: 'restarting'}`, active tasks fail ("persona
   * restarted"), `agent.left {reason: 'restart'}` when it was running, then idle, `agent.lifecycle {state: null}`,
   * `agent.joined {reason: 'restart'}`.
   * @throws 404 `swarm/persona_not_found`, 409 `swarm/persona_running` while another transient is in progress.
   */
  async restart(personaId: string, actor: Actor): Promise<AgentDto> {
    const def = this.definition(personaId);
    await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: personaAgentId(def.id) } });
      if (row?.lifecycle) throw swarmError('swarm/persona_running', `Persona ${def.id} is ${row.lifecycle}`, 409);
      await this.enterTransient(tx, def, row, 'restarting', actor);
    });
    const agent = await this.events.write(async (tx) => {
      const row = await this.row(tx, def);
      const wasRunning = row.status !== 'offline';
      const failed = await failActiveTasksOf(tx, row.id, `persona ${def.id} restarted`, 'coordinator');
      if (wasRunning) {
        tx.append({ type: 'agent.left', source: 'coordinator', agentId: row.id, data: { name: row.name, reason: 'restart', tasksFailed: failed.length } });
      }
      await setAgentStatus(tx, row, 'idle', 'restarted');
      await this.leaveTransient(tx, row);
      tx.append({ type: 'agent.joined', source: 'coordinator', agentId: row.id, data: { name: row.name, kind: 'persona', personaId: def.id, capabilities: row.capabilities, reason: 'restart' } });
      return row;
    });
    return toAgentDto(agent, agent.status === 'offline' ? null : this.executor.unavailableReason());
  }

  private async row(tx: WriteContext, def: PersonaDefinition): Promise<AgentEntity> {
    const row = await tx.manager.findOne(AgentEntity, { where: { id: personaAgentId(def.id) } });
    if (!row) throw new AppError('swarm/persona_not_found', `Persona agent ${def.id} vanished`, 409);
    return row;
  }

  /** Creates the persona's agent row if needed and sets a lifecycle transient (`agent.lifecycle {state, since}`). */
  private async enterTransient(tx: WriteContext, def: PersonaDefinition, row: AgentEntity | null, state: AgentLifecycleState, actor: Actor): Promise<void> {
    const now = nowIso();
    const id = personaAgentId(def.id);
    if (!row) {
      await tx.manager.insert(AgentEntity, {
        id,
        name: def.name,
        kind: 'persona',
        personaId: def.id,
        capabilities: [...def.capabilities],
        status: 'offline',
        lifecycle: state,
        lifecycleSince: now,
        lastHeartbeatAt: null,
        createdAt: now,
        updatedAt: now,
      } satisfies AgentEntity);
    } else {
      await tx.manager.update(AgentEntity, { id }, { lifecycle: state, lifecycleSince: now, updatedAt: now });
    }
    tx.append({ type: 'agent.lifecycle', source: 'coordinator', agentId: id, data: { state, since: now, by: actorLabel(actor) } });
  }

  /** Clears the transient (`agent.lifecycle {state: null, since: null, previous}`). */
  private async leaveTransient(tx: WriteContext, row: AgentEntity): Promise<void> {
    const previous = row.lifecycle;
    const now = nowIso();
    row.lifecycle = null;
    row.lifecycleSince = null;
    row.updatedAt = now;
    await tx.manager.update(AgentEntity, { id: row.id }, { lifecycle: null, lifecycleSince: null, updatedAt: now });
    tx.append({ type: 'agent.lifecycle', source: 'coordinator', agentId: row.id, data: { state: null, since: null, previous } });
  }

  /** Restart recovery: clears transients a crash left behind. Returns how many. */
  async clearStaleTransients(): Promise<number> {
    return this.events.write((tx) => this.clearStaleTransientsInTx(tx, Number.POSITIVE_INFINITY));
  }

  /**
   * Clears persona transients (spawning/stopping/restarting) set before `beforeMs` (epoch ms) inside `tx`: a transient
   * lasts two commits of one request, so one older than an instance lease was left by a process that is gone.
   * Returns how many.
   */
  private async clearStaleTransientsInTx(tx: WriteContext, beforeMs: number): Promise<number> {
    const rows = (await tx.manager.find(AgentEntity, { where: { kind: 'persona', lifecycle: Not(IsNull()) } })).filter(
      (r) => beforeMs === Number.POSITIVE_INFINITY || !r.lifecycleSince || Date.parse(r.lifecycleSince) < beforeMs,
    );
    for (const r of rows) await this.leaveTransient(tx, r);
    return rows.length;
  }

  // ------------------------------------------------------------------ bidding

  /**
   * A persona's bid on `description` (sats): prototype rule (keyword hit -> `max(1, base - rand(0, jitter))`, else
   * `min(200, int(base*1.8) + rand(0, jitter))`) then the learner adjustment from this agent's bid/task history.
   */
  async computeBid(def: PersonaDefinition, description: string, manager: EntityManager = this.dataSource.manager): Promise<number> {
    const raw = personaRawBid(def, description, this.rand);
    const rows: { won: unknown; status: string; description: string }[] = await manager
      .getRepository(BidEntity)
      .createQueryBuilder('b')
      .innerJoin(TaskEntity, 't', 't.id = b.taskId')
      .select('b.won', 'won')
      .addSelect('t.status', 'status')
      .addSelect('t.description', 'description')
      .where('b.agentId = :agentId', { agentId: personaAgentId(def.id) })
      .getRawMany();
    const outcomes: LearnerOutcome[] = rows.map((r) => ({ won: r.won === true || Number(r.won) === 1, taskStatus: r.status, description: r.description }));
    return Math.min(MAX_BID_SATS, suggestBid(raw, description, learnerStats(outcomes)));
  }

  /** The durable consumer's handler: bids and task starts inside its unit of work; the work runs after commit. */
  private async react(events: EventEnvelope[], tx: WriteContext): Promise<(() => void) | void> {
    if (this.stopped) throw new Error('personas are shutting down');
    const started: { def: PersonaDefinition; agentId: string; task: TaskDto }[] = [];
    for (const e of events) {
      if (e.type === 'task.bidding' && e.taskId) {
        await this.bidOnTaskInTx(tx, e.taskId);
      } else if (e.type === 'task.assigned' && e.taskId && e.agentId?.startsWith('persona-')) {
        const s = await this.startInTx(tx, e.agentId, e.taskId);
        if (s) started.push(s);
      }
    }
    if (started.length === 0) return;
    return () => {
      for (const s of started) void this.work(s.def, s.agentId, s.task);
    };
  }

  /**
   * Every spawned persona (not offline, no transient) bids once on the task, inside `tx`; none does while no LLM
   * provider can serve them (`PersonaExecutor.unavailableReason()`).
   */
  private async bidOnTaskInTx(tx: WriteContext, taskId: string): Promise<void> {
    const task = await tx.manager.findOne(TaskEntity, { where: { id: taskId } });
    if (!task || task.status !== 'bidding') return;
    const agents = await tx.manager.find(AgentEntity, { where: { kind: 'persona', status: Not('offline'), lifecycle: IsNull() } });
    const unavailable = agents.length > 0 ? this.executor.unavailableReason() : null;
    if (unavailable) {
      // a persona that cannot reach an LLM would win and then fail the task: it sits the auction out (its agent row says why)
      this.logger.debug(`personas do not bid on ${taskId}: ${unavailable}`);
      return;
    }
    for (const a of agents) {
      const def = a.personaId ? findPersona(a.personaId) : undefined;
      if (!def) continue;
      const sats = await this.computeBid(def, task.description, tx.manager);
      const outcome = await this.tasks.submitBidInTx(tx, a.id, taskId, sats, agentSource(a.id));
      if ('rejected' in outcome) this.logger.debug(`${a.id} bid refused: ${outcome.rejected.message}`);
    }
  }

  /** Starts a task a persona won (`task.started`) inside `tx`; null when the task or persona moved on meanwhile. */
  private async startInTx(tx: WriteContext, agentId: string, taskId: string): Promise<{ def: PersonaDefinition; agentId: string; task: TaskDto } | null> {
    const def = findPersona(agentId.slice('persona-'.length) as PersonaId);
    const agent = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
    const row = await tx.manager.findOne(TaskEntity, { where: { id: taskId } });
    if (!def || !agent || agent.status === 'offline' || !row || row.status !== 'assigned' || row.assignedAgentId !== agentId) return null;
    if (this.executing.has(taskId)) return null;
    const task = await this.tasks.startInTx(tx, taskId, personaActor(agentId), this.instances.id);
    this.executing.add(taskId);
    return { def, agentId, task: toTaskDto(task) };
  }

  // ------------------------------------------------------------------ work

  private pickUpAssigned(agentId: string): void {
    void this.dataSource
      .getRepository(TaskEntity)
      .find({ where: { assignedAgentId: agentId, status: 'assigned' } })
      .then((rows) => rows.forEach((t) => void this.runTask(agentId, t.id)))
      .catch((err: unknown) => this.warn(`picking up tasks of ${agentId}`, err));
  }

  /**
   * Starts an assigned task (a persona spawned after it was assigned) and runs it. Never throws (problems are logged).
   */
  async runTask(agentId: string, taskId: string): Promise<void> {
    if (this.executing.has(taskId) || this.stopped) return;
    const def = findPersona(agentId.slice('persona-'.length) as PersonaId);
    if (!def) return;
    this.executing.add(taskId);
    let task: TaskDto;
    try {
      const agent = await this.dataSource.getRepository(AgentEntity).findOne({ where: { id: agentId } });
      if (!agent || agent.status === 'offline') {
        this.executing.delete(taskId);
        return;
      }
      task = await this.tasks.start(taskId, personaActor(agentId), this.instances.id);
    } catch (err) {
      this.executing.delete(taskId);
      this.warn(`starting task ${taskId} as ${agentId}`, err);
      return;
    }
    await this.work(def, agentId, task);
  }

  /**
   * Does a started task's work through the executor: tool events -> complete with the result, or fail with the
   * executor's error message. Never throws (problems are logged).
   */
  private async work(def: PersonaDefinition, agentId: string, task: TaskDto): Promise<void> {
    const taskId = task.id;
    try {
      const actor = personaActor(agentId);
      const source = agentSource(agentId);
      const report: PersonaWorkReport = {
        tool: async (type, data) => {
          await this.events.append([{ type, source, taskId, agentId, data }]);
        },
      };
      let result: string;
      try {
        result = (await this.executor.execute(toPersonaDto(def, agentId), task, report)).result;
      } catch (err) {
        await this.tasks.fail(taskId, actor, err instanceof Error ? err.message : String(err));
        return;
      }
      await this.tasks.complete(taskId, actor, result);
    } catch (err) {
      this.warn(`running task ${taskId} as ${agentId}`, err);
    } finally {
      this.executing.delete(taskId);
    }
  }

  private warn(what: string, err: unknown): void {
    if (this.stopped) return;
    if (err instanceof AppError && err.statusCode < 500) this.logger.debug(`${what}: ${err.message}`);
    else this.logger.warn(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
