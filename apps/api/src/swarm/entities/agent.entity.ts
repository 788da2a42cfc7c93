import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AgentKind, AgentLifecycleState, AgentStatus, PersonaId } from '@app/contracts';

/** A swarm member (`agents`): a built-in persona or an external agent process. */
@Entity({ name: 'agents' })
export class AgentEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 }) id: string;
  @Column({ type: 'varchar', length: 64, unique: true }) name: string;
  @Column({ type: 'varchar', length: 16 }) kind: AgentKind;
  @Column({ type: 'varchar', length: 16, nullable: true }) personaId: PersonaId | null;
  @Column({ type: 'simple-json' }) capabilities: string[];
  @Column({ type: 'varchar', length: 16 }) status: AgentStatus;
  @Column({ type: 'varchar', length: 16, nullable: true }) lifecycle: AgentLifecycleState | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) lifecycleSince: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) lastHeartbeatAt: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
