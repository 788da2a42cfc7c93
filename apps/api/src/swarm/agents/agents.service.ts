import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AgentDto, CreateApiKeyResponse, EnrollAgentResponse, ListResponse } from '@app/contracts';
import { DataSource, In, IsNull, LessThan, Not, Or } from 'typeorm';
import { AuthService } from '../../auth/auth.service';
import { nowIso } from '../../common/time.util';
import { APP_CONFIG, type AppConfig } from '../../config/app-config';
import { EventLogWriter } from '../../event-log/event-log.writer';
import { EventLogReader } from '../../event-log/event-log.reader';
import type { WriteContext } from '../../event-log/event-log.types';
import { AgentEntity } from '../entities/agent.entity';
import { slugifyAgentName } from '../auctions/bid.util';
import { PERSONAS } from '../personas/personas.constants';
import { PERSONA_EXECUTOR, type PersonaExecutor } from '../personas/persona-executor';
import { swarmError } from '../swarm.errors';
import { agentSource, toAgentDto } from '../swarm.mappers';
import { countActiveTasks, failActiveTasksOf, setAgentStatus } from '../swarm-tx.util';
import { actorLabel, type Actor } from '../swarm.types';

/** How often the heartbeat monitor looks for silent agents, as a fraction of HEARTBEAT_TIMEOUT_MS (bounded 100..5000 ms). */
export function heartbeatCheckIntervalMs(timeoutMs: number): number {
  return Math.max(100, Math.min(5000, Math.floor(timeoutMs / 5)));
}

/**
 * The agent registry: external agents (enrolled with an agent-bound API key) and the rows of spawned personas.
 * External agents report liveness with heartbeats; a monitor marks them offline after HEARTBEAT_TIMEOUT_MS of silence
 * (`agent.status_changed {from, to: 'offline', reason: 'heartbeat timeout'}`).
 */
@Injectable()
export class AgentsService implements OnModuleDestroy {
  private readonly logger = new Logger('Agents');
  private monitor: NodeJS.Timeout | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly auth: AuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(PERSONA_EXECUTOR) private readonly executor: PersonaExecutor,
  ) {}

  onModuleDestroy(): void {
    if (this.monitor) clearInterval(this.monitor);
    this.monitor = null;
  }

  // ------------------------------------------------------------------ reads

  /** Every agent (personas and external), by name. */
  async list(): Promise<ListResponse<AgentDto>> {
    const headSeq = await this.reader.getHeadSeq();
    const rows = await this.dataSource.getRepository(AgentEntity).find({ order: { name: 'ASC' } });
    const why = this.executor.unavailableReason();
    return { items: rows.map((r) => toAgentDto(r, personaUnavailable(r, why))), headSeq, epoch: this.reader.epoch };
  }

  /** @throws AppError `swarm/agent_not_found` (404). */
  async get(id: string): Promise<AgentDto> {
    const row = await this.getEntity(id);
    return toAgentDto(row, personaUnavailable(row, this.executor.unavailableReason()));
  }

  /**
   * Why no agent able to do a new task is available now, or null when one is: for a direct assignment, the chosen
   * agent (offline, or a persona without an LLM provider); for an auction, every online agent (none online, or only
   * personas that cannot bid). Shown as the `warning` of `POST /api/tasks`.
   */
  async capacityWarning(agentId?: string): Promise<string | null> {
    const why = this.executor.unavailableReason();
    const repo = this.dataSource.getRepository(AgentEntity);
    if (agentId) {
      const a = await repo.findOne({ where: { id: agentId } });
      if (!a) return null;
      const reason = personaUnavailable(a, why);
      return reason ? `${a.name} cannot do this task now: ${reason}. It will fail unless a provider comes back first.` : null;
    }
    const online = await repo.find({ where: { status: Not('offline'), lifecycle: IsNull() } });
    if (online.some((a) => personaUnavailable(a, why) === null)) return null;
    if (online.length === 0) return 'No agent is online: nobody will bid, and the auction will close without bids unless an agent joins or a persona is spawned.';
    return `No agent can take this task now: the ${online.length} online agent(s) are personas that do not bid while ${why}. The auction will close without bids unless a provider comes back or an external agent joins.`;
  }

  /** @throws AppError `swarm/agent_not_found` (404). */
  async getEntity(id: string): Promise<AgentEntity> {
    const row = await this.dataSource.getRepository(AgentEntity).findOne({ where: { id } });
    if (!row) throw agentNotFound(id);
    return row;
  }

  // ------------------------------------------------------------------ enrollment

  /**
   * Enrolls an external agent (status offline until it joins or heartbeats) and issues its first agent-bound API key in
   * the same transaction. Id = slug of the name when free, else a uuid. Emits `system.info` and `auth.key_created`.
   * @returns the agent and the secret key (shown once).
   * @throws AppError `swarm/agent_name_taken` (409) for a used or persona name.
   */
  async enroll(name: string, capabilities: string[] | undefined, actor: Actor): Promise<EnrollAgentResponse> {
    const trimmed = name.trim();
    if (PERSONAS.some((p) => p.name.toLowerCase() === trimmed.toLowerCase())) {
      throw swarmError('swarm/agent_name_taken', `"${trimmed}" is a built-in persona name`, 409);
    }
    return this.events.write(async (tx) => {
      if (await tx.manager.exists(AgentEntity, { where: { name: trimmed } })) {
        throw swarmError('swarm/agent_name_taken', `Agent name "${trimmed}" is taken`, 409);
      }
      const slug = slugifyAgentName(trimmed);
      const id = slug && !(await tx.manager.exists(AgentEntity, { where: { id: slug } })) ? slug : randomUUID();
      const now = nowIso();
      const agent: AgentEntity = {
        id,
        name: trimmed,
        kind: 'external',
        personaId: null,
        capabilities: dedupe(capabilities ?? []),
        status: 'offline',
        lifecycle: null,
        lifecycleSince: null,
        lastHeartbeatAt: null,
        createdAt: now,
        updatedAt: now,
      };
      await tx.manager.insert(AgentEntity, agent);
      tx.append({
        type: 'system.info',
        source: 'coordinator',
        agentId: id,
        data: { message: `agent ${id} enrolled`, name: trimmed, capabilities: agent.capabilities, by: actorLabel(actor) },
      });
      const { key } = await this.auth.issueApiKeyInTx(tx, {
        label: `agent:${id}`,
        role: 'agent',
        userId: null,
        agentId: id,
        actor: actorLabel(actor),
      });
      return { agent: toAgentDto(agent), key };
    });
  }

  /**
   * Issues another agent-bound key for an external agent (`auth.key_created`).
   * @throws AppError `swarm/agent_not_found` (404), `swarm/not_external_agent` (400) for personas.
   */
  async issueKey(agentId: string, actor: Actor): Promise<CreateApiKeyResponse> {
    return this.events.write(async (tx) => {
      const agent = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!agent) throw agentNotFound(agentId);
      if (agent.kind !== 'external') throw swarmError('swarm/not_external_agent', `Agent ${agentId} is a persona; personas run in-process without keys`, 400);
      return this.auth.issueApiKeyInTx(tx, { label: `agent:${agentId}`, role: 'agent', userId: null, agentId, actor: actorLabel(actor) });
    });
  }

  /**
   * Removes an external agent from the swarm: revokes its keys, fails its active tasks, sets it offline and emits
   * `agent.left {reason: 'removed'}` (the row stays for history). Sockets of the revoked keys are dropped after commit.
   * @throws AppError `swarm/agent_not_found` (404), `swarm/not_external_agent` (400) for personas.
   */
  async removeExternal(agentId: string, actor: Actor): Promise<AgentDto> {
    const { agent, revoked } = await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!row) throw agentNotFound(agentId);
      if (row.kind !== 'external') throw swarmError('swarm/not_external_agent', `Agent ${agentId} is a persona`, 400);
      const revokedIds = await this.auth.revokeAgentKeysInTx(tx, agentId, actorLabel(actor), 'agent removed');
      await this.goOffline(tx, row, 'removed', `agent ${agentId} removed`);
      return { agent: row, revoked: revokedIds };
    });
    await this.auth.announceRevoked(revoked);
    return toAgentDto(agent);
  }

  // ------------------------------------------------------------------ agent self-service

  /**
   * The calling agent joins: capabilities updated when given, heartbeat refreshed, offline -> idle (or busy when it
   * still has tasks). Emits `agent.joined` and `agent.status_changed`.
   * @throws AppError `swarm/agent_not_found` (404).
   */
  async join(agentId: string, capabilities?: string[]): Promise<AgentDto> {
    const agent = await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!row) throw agentNotFound(agentId);
      const now = nowIso();
      if (capabilities) row.capabilities = dedupe(capabilities);
      row.lastHeartbeatAt = now;
      row.updatedAt = now;
      await tx.manager.update(AgentEntity, { id: agentId }, { capabilities: row.capabilities, lastHeartbeatAt: now, updatedAt: now });
      tx.append({ type: 'agent.joined', source: agentSource(agentId), agentId, data: { name: row.name, kind: row.kind, capabilities: row.capabilities } });
      if (row.status === 'offline') await this.comeOnline(tx, row, 'joined');
      return row;
    });
    return toAgentDto(agent);
  }

  /**
   * Heartbeat of the calling agent: refreshes `lastHeartbeatAt`; an offline agent comes back online
   * (`agent.status_changed {reason: 'heartbeat'}`). A plain heartbeat writes no event.
   * @throws AppError `swarm/agent_not_found` (404).
   */
  async heartbeat(agentId: string): Promise<AgentDto> {
    const agent = await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!row) throw agentNotFound(agentId);
      const now = nowIso();
      row.lastHeartbeatAt = now;
      row.updatedAt = now;
      await tx.manager.update(AgentEntity, { id: agentId }, { lastHeartbeatAt: now, updatedAt: now });
      if (row.status === 'offline') await this.comeOnline(tx, row, 'heartbeat');
      return row;
    });
    return toAgentDto(agent);
  }

  /**
   * The calling agent leaves: its active tasks fail ("agent left"), it goes offline, `agent.left {reason: 'left'}`.
   * @throws AppError `swarm/agent_not_found` (404).
   */
  async leave(agentId: string): Promise<AgentDto> {
    const agent = await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentEntity, { where: { id: agentId } });
      if (!row) throw agentNotFound(agentId);
      await this.goOffline(tx, row, 'left', `agent ${agentId} left`, agentSource(agentId));
      return row;
    });
    return toAgentDto(agent);
  }

  private async comeOnline(tx: WriteContext, row: AgentEntity, reason: string): Promise<void> {
    const busy = (await countActiveTasks(tx, row.id)) > 0;
    await setAgentStatus(tx, row, busy ? 'busy' : 'idle', reason);
  }

  /** Fails active tasks, sets offline, appends `agent.left {reason}`. */
  private async goOffline(tx: WriteContext, row: AgentEntity, reason: string, taskReason: string, source = 'coordinator'): Promise<void> {
    const failed = await failActiveTasksOf(tx, row.id, taskReason, 'coordinator');
    await setAgentStatus(tx, row, 'offline', reason, source);
    tx.append({ type: 'agent.left', source, agentId: row.id, data: { name: row.name, reason, tasksFailed: failed.length } });
  }

  // ------------------------------------------------------------------ liveness

  /** Starts the heartbeat monitor (idempotent). */
  startMonitor(): void {
    if (this.monitor) return;
    this.monitor = setInterval(() => {
      this.sweepSilentAgents().catch((err: unknown) => this.logger.warn(`heartbeat sweep failed: ${(err as Error).message}`));
    }, heartbeatCheckIntervalMs(this.config.HEARTBEAT_TIMEOUT_MS));
    this.monitor.unref();
  }

  /**
   * Marks external agents offline whose last heartbeat is older than HEARTBEAT_TIMEOUT_MS (or missing) while they are
   * idle/busy: `agent.status_changed {from, to: 'offline', reason: 'heartbeat timeout'}`. Returns how many.
   */
  async sweepSilentAgents(nowMs = Date.now()): Promise<number> {
    const cutoff = new Date(nowMs - this.config.HEARTBEAT_TIMEOUT_MS).toISOString();
    const silent = await this.dataSource.getRepository(AgentEntity).find({
      where: { kind: 'external', status: Not('offline'), lastHeartbeatAt: Or(IsNull(), LessThan(cutoff)) },
    });
    if (silent.length === 0) return 0;
    return this.events.write(async (tx) => {
      let n = 0;
      for (const s of silent) {
        const row = await tx.manager.findOne(AgentEntity, { where: { id: s.id } });
        if (!row || row.status === 'offline' || (row.lastHeartbeatAt !== null && row.lastHeartbeatAt >= cutoff)) continue;
        await setAgentStatus(tx, row, 'offline', 'heartbeat timeout');
        n++;
      }
      return n;
    });
  }

  /**
   * Restart recovery: external agents that were idle/busy go offline (`agent.status_changed {reason: 'server restarted'}`).
   * Returns how many.
   */
  async offlineExternalAgents(): Promise<number> {
    return this.events.write(async (tx) => {
      const rows = await tx.manager.find(AgentEntity, { where: { kind: 'external', status: In(['idle', 'busy']) } });
      for (const r of rows) await setAgentStatus(tx, r, 'offline', 'server restarted');
      return rows.length;
    });
  }
}

function agentNotFound(id: string) {
  return swarmError('swarm/agent_not_found', `Agent ${id} not found`, 404);
}

function dedupe(values: string[]): string[] {
  return [...new Set(values.map((v) => v.trim()).filter(Boolean))];
}

/** The `unavailableReason` of an agent: the router's reason for an online persona, null otherwise. */
function personaUnavailable(a: AgentEntity, why: string | null): string | null {
  return a.kind === 'persona' && a.status !== 'offline' ? why : null;
}
