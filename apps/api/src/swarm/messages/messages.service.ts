import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AgentMessageDto, ListResponse } from '@app/contracts';
import { DataSource, type FindOptionsWhere } from 'typeorm';
import { nowIso } from '../../common/time.util';
import { EventLogWriter } from '../../event-log/event-log.writer';
import { EventLogReader } from '../../event-log/event-log.reader';
import type { WriteContext } from '../../event-log/event-log.types';
import { AgentMessageEntity } from '../entities/agent-message.entity';
import { AgentEntity } from '../entities/agent.entity';
import { swarmError } from '../swarm.errors';
import { agentSource, preview, toMessageDto } from '../swarm.mappers';
import { actorLabel, type Actor } from '../swarm.types';

/** Max messages per list page. */
export const MAX_MESSAGE_PAGE = 500;

/**
 * Inter-agent messages: `message.sent {toAgentId, bodyPreview}` when posted (by an agent or an operator), then
 * `message.delivered` when the recipient acknowledges. Events carry `agentId` = the recipient so its channel sees them.
 */
@Injectable()
export class MessagesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
  ) {}

  /**
   * Messages newest first. An agent (`viewerAgentId`) sees only messages from or to itself; others may filter by
   * `agentId` (from or to) and `status`.
   */
  async list(q: { agentId?: string; status?: 'sent' | 'delivered'; limit?: number }, viewerAgentId: string | null): Promise<ListResponse<AgentMessageDto>> {
    const headSeq = await this.reader.getHeadSeq();
    const who = viewerAgentId ?? q.agentId;
    const base: FindOptionsWhere<AgentMessageEntity> = q.status ? { status: q.status } : {};
    const where = who ? [{ ...base, toAgentId: who }, { ...base, fromAgentId: who }] : base;
    const rows = await this.dataSource.getRepository(AgentMessageEntity).find({
      where,
      order: { createdAt: 'DESC', id: 'ASC' },
      take: Math.min(MAX_MESSAGE_PAGE, q.limit ?? 100),
    });
    return { items: rows.map(toMessageDto), headSeq, epoch: this.reader.epoch };
  }

  /**
   * Sends `body` to `toAgentId` from the actor (agent id, or null for an operator): `message.sent`.
   * @throws AppError `swarm/agent_not_found` (404) for an unknown recipient.
   */
  async send(actor: Actor, toAgentId: string, body: string): Promise<AgentMessageDto> {
    const msg = await this.events.write((tx) => this.sendInTx(tx, actor, toAgentId, body));
    return toMessageDto(msg);
  }

  /**
   * `send` inside another module's unit of work (the upgrade queue tells a proposing agent why its proposal was
   * rejected): inserts the message and appends `message.sent` in `tx`.
   * @throws AppError `swarm/agent_not_found` (404) for an unknown recipient (nothing written).
   */
  async sendInTx(tx: WriteContext, actor: Actor, toAgentId: string, body: string): Promise<AgentMessageEntity> {
    if (!(await tx.manager.exists(AgentEntity, { where: { id: toAgentId } }))) {
      throw swarmError('swarm/agent_not_found', `Agent ${toAgentId} not found`, 404);
    }
    const now = nowIso();
    const row: AgentMessageEntity = {
      id: randomUUID(),
      fromAgentId: actor.agentId,
      toAgentId,
      body,
      status: 'sent',
      createdAt: now,
      deliveredAt: null,
      updatedAt: now,
    };
    await tx.manager.insert(AgentMessageEntity, row);
    tx.append({
      type: 'message.sent',
      source: actor.agentId ? agentSource(actor.agentId) : 'coordinator',
      agentId: toAgentId,
      data: { messageId: row.id, fromAgentId: actor.agentId, toAgentId, bodyPreview: preview(body), by: actorLabel(actor) },
    });
    return row;
  }

  /**
   * The recipient acknowledges a message: sent -> delivered (`message.delivered`); idempotent once delivered.
   * @throws AppError `swarm/message_not_found` (404), `swarm/not_recipient` (403).
   */
  async markDelivered(agentId: string, id: string): Promise<AgentMessageDto> {
    const msg = await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(AgentMessageEntity, { where: { id } });
      if (!row) throw swarmError('swarm/message_not_found', `Message ${id} not found`, 404);
      if (row.toAgentId !== agentId) throw swarmError('swarm/not_recipient', `Message ${id} is not addressed to ${agentId}`, 403);
      if (row.status === 'delivered') return row;
      const now = nowIso();
      Object.assign(row, { status: 'delivered', deliveredAt: now, updatedAt: now });
      await tx.manager.update(AgentMessageEntity, { id }, { status: 'delivered', deliveredAt: now, updatedAt: now });
      tx.append({ type: 'message.delivered', source: agentSource(agentId), agentId, data: { messageId: id, fromAgentId: row.fromAgentId, toAgentId: agentId } });
      return row;
    });
    return toMessageDto(msg);
  }
}
