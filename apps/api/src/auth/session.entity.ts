import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A browser login session (`sessions`): the cookie carries a random token, only its sha256 is stored. */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64, unique: true }) tokenHash: string;
  @Column({ type: 'varchar', length: 36 }) userId: string;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
  @Column({ type: 'varchar', length: 30 }) expiresAt: string;
}
