import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { Role } from '@app/contracts';

/** A bearer API key (`api_keys`): only its sha256 is stored; agent keys are bound to one agent. */
@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 100 }) label: string;
  @Column({ type: 'varchar', length: 16 }) role: Role;
  @Column({ type: 'varchar', length: 16 }) prefix: string;
  @Column({ type: 'varchar', length: 64, unique: true }) keyHash: string;
  @Column({ type: 'varchar', length: 36, nullable: true }) userId: string | null;
  @Column({ type: 'varchar', length: 36, nullable: true }) agentId: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) lastUsedAt: string | null;
  @Column({ type: 'varchar', length: 30, nullable: true }) revokedAt: string | null;
}
