import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An inter-agent message (`agent_messages`): sent, then delivered when the recipient acknowledges it. */
@Entity({ name: 'agent_messages' })
export class AgentMessageEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) fromAgentId: string | null;
  @Column({ type: 'varchar', length: 64 }) toAgentId: string;
  @Column({ type: 'text' }) body: string;
  @Column({ type: 'varchar', length: 16 }) status: 'sent' | 'delivered';
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) deliveredAt: string | null;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
