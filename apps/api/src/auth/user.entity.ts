import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { UserRole } from '@app/contracts';

/** A human operator account (`users`). Passwords are argon2id hashes. */
@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64, unique: true }) username: string;
  @Column({ type: 'varchar', length: 255 }) passwordHash: string;
  @Column({ type: 'varchar', length: 16 }) role: UserRole;
  @Column({ type: 'boolean', default: false }) disabled: boolean;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
