import { InstanceRegistry } from '../cluster/instance-registry';
import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { AgentDto, SwarmStatusDto } from '@app/contracts';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { EventLogReader } from '../event-log/event-log.reader';
import { AgentEntity } from './entities/agent.entity';
import { AgentsService } from './agents/agents.service';
import { findPersona } from './personas/personas.constants';
import { PersonasService } from './personas/personas.service';
import { QuestionsService } from './questions/questions.service';
import { swarmError } from './swarm.errors';
import type { Actor } from './swarm.types';
import { TasksService } from './tasks/tasks.service';

/** Actor of changes the server makes on its own (boot, recovery). */
export const SYSTEM_ACTOR: Actor = { agentId: null, username: 'system', operator: true };

/** Parses SPAWN_PERSONAS (comma list) into known persona ids and unknown leftovers. */
export function parseSpawnList(value: string): { known: string[]; unknown: string[] } {
  const ids = [...new Set(value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean))];
  return { known: ids.filter((id) => findPersona(id)), unknown: ids.filter((id) => !findPersona(id)) };
}

/**
 * Facade of the swarm for the rest of the app (status, agent removal) and its boot sequence: restart recovery before
 * traffic (`system.info {message, recovered}`), then SPAWN_PERSONAS, then the heartbeat monitor.
 */
@Injectable()
export class SwarmService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Swarm');

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly agents: AgentsService,
    private readonly personas: PersonasService,
    private readonly tasks: TasksService,
    private readonly questions: QuestionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly instances: InstanceRegistry,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.recover();
    const { known, unknown } = parseSpawnList(this.config.SPAWN_PERSONAS);
    if (unknown.length > 0) this.logger.warn(`SPAWN_PERSONAS: unknown persona(s) ignored: ${unknown.join(', ')}`);
    const running = new Set((await this.personas.list()).filter((p) => p.agentId).map((p) => p.id as string));
    for (const id of known) {
      if (!running.has(id)) await this.personas.spawn(id, SYSTEM_ACTOR);
    }
    this.agents.startMonitor();
  }

  /**
   * Restart recovery (runs once at boot, before traffic), owner-aware (ADR 0061):
   * - cold start (no other live instance): everything in flight lost its owner, so assigned/running tasks fail, stale
   *   transients clear, external agents go offline ("server restarted"), and gone instances' rows are forgotten;
   * - joining live peers (a rolling restart): only the work of gone instances is reclaimed (their persona tasks fail,
   *   once, see InstanceRegistry.reclaimGone); external agents keep their state (offline only by missed heartbeats)
   *   and tasks of live owners are untouched.
   * Either way auctions are closed or re-armed and question deadlines expire or re-arm (conditional: once across
   * instances). Logs `system.info {message, mode: 'cold' | 'join', peers, recovered}` with the counts.
   */
  async recover(): Promise<Record<string, number>> {
    const peers = await this.instances.liveOthers();
    let recovered: Record<string, number>;
    if (peers.length === 0) {
      const tasksFailed = await this.tasks.failInterruptedTasks();
      const transientsCleared = await this.personas.clearStaleTransients();
      const agentsOfflined = await this.agents.offlineExternalAgents();
      await this.instances.forgetGone();
      recovered = { tasksFailed, agentsOfflined, transientsCleared };
    } else {
      const { instancesReclaimed, counts } = await this.instances.reclaimGone();
      recovered = { tasksFailed: 0, agentsOfflined: 0, transientsCleared: 0, ...counts, instancesReclaimed };
    }
    const auctions = await this.tasks.resumeAuctions();
    const questions = await this.questions.recover();
    recovered = { ...recovered, ...auctions, ...questions };
    const mode = peers.length === 0 ? 'cold' : 'join';
    await this.events.append([{ type: 'system.info', source: 'coordinator', data: { message: 'swarm recovered after start', mode, peers: peers.length, recovered } }]);
    this.logger.log(`recovery (${mode}, ${peers.length} live peer(s)): ${JSON.stringify(recovered)}`);
    return recovered;
  }

  /** Counts for the dashboard header. */
  async status(): Promise<SwarmStatusDto> {
    const headSeq = await this.reader.getHeadSeq();
    const agents = await this.dataSource.getRepository(AgentEntity).find();
    const tasksByStatus = await this.tasks.countByStatus();
    return {
      agents: agents.length,
      agentsIdle: agents.filter((a) => a.status === 'idle').length,
      agentsBusy: agents.filter((a) => a.status === 'busy').length,
      agentsOffline: agents.filter((a) => a.status === 'offline').length,
      tasksTotal: Object.values(tasksByStatus).reduce((a, b) => a + b, 0),
      tasksByStatus,
      activeAuctions: tasksByStatus.bidding,
      headSeq,
    };
  }

  /**
   * Removes an agent: an external agent loses its keys and goes offline (`agent.left`); a persona is stopped.
   * @throws 404 `swarm/agent_not_found`; persona stop errors.
   */
  async removeAgent(id: string, actor: Actor): Promise<AgentDto> {
    const agent = await this.dataSource.getRepository(AgentEntity).findOne({ where: { id } });
    if (!agent) throw swarmError('swarm/agent_not_found', `Agent ${id} not found`, 404);
    if (agent.kind === 'persona' && agent.personaId) return this.personas.stop(agent.personaId, actor);
    return this.agents.removeExternal(id, actor);
  }
}
