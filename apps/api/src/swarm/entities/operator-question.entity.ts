import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { QuestionStatus } from '@app/contracts';

/** A question an agent asks the operator (`operator_questions`), single or multiple choice, optional deadline. */
@Entity({ name: 'operator_questions' })
export class OperatorQuestionEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 64, nullable: true }) agentId: string | null;
  @Column({ type: 'varchar', length: 36, nullable: true }) taskId: string | null;
  @Column({ type: 'text' }) question: string;
  @Column({ type: 'simple-json' }) options: string[];
  @Column({ type: 'boolean', default: false }) multiple: boolean;
  @Column({ type: 'varchar', length: 30, nullable: true }) deadline: string | null;
  @Column({ type: 'varchar', length: 16 }) status: QuestionStatus;
  @Column({ type: 'simple-json', nullable: true }) answer: string[] | null;
  @Column({ type: 'varchar', length: 100, nullable: true }) answeredBy: string | null;
  @Column({ type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 30, nullable: true }) resolvedAt: string | null;
  @Column({ type: 'varchar', length: 30 }) updatedAt: string;
}
