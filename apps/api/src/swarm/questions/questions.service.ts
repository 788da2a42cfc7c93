import { Injectable, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { AskQuestionRequest, ListResponse, QuestionDto, QuestionStatus } from '@app/contracts';
import { DataSource } from 'typeorm';
import { nowIso } from '../../common/time.util';
import { EventLogReader } from '../../event-log/event-log.reader';
import { EventLogWriter } from '../../event-log/event-log.writer';
import type { WriteContext } from '../../event-log/event-log.types';
import { OperatorQuestionEntity } from '../entities/operator-question.entity';
import { swarmError } from '../swarm.errors';
import { agentSource, toQuestionDto } from '../swarm.mappers';
import { actorLabel, type Actor } from '../swarm.types';
import { TaskEntity } from '../entities/task.entity';
import { DeadlineScheduler } from '../../common/scheduling/deadline-scheduler';

/** Max questions per list page. */
export const MAX_QUESTION_PAGE = 500;
/** Farthest deadline accepted (ms from now): 30 days. */
export const MAX_DEADLINE_AHEAD_MS = 30 * 24 * 3_600_000;

/**
 * Checks an answer against a question: every choice must be one of the options, no repeats, exactly one for a
 * single-choice question and at least one otherwise. Returns an error message or null.
 */
export function answerProblem(options: readonly string[], multiple: boolean, answer: readonly string[]): string | null {
  if (answer.length === 0) return 'answer must contain at least one option';
  if (!multiple && answer.length !== 1) return 'this is a single-choice question: answer with exactly one option';
  if (new Set(answer).size !== answer.length) return 'answer repeats an option';
  const unknown = answer.filter((a) => !options.includes(a));
  if (unknown.length > 0) return `not among the options: ${unknown.map((u) => JSON.stringify(u)).join(', ')}`;
  return null;
}

/**
 * Operator questions asked by agents (hyperhive style): open -> answered | cancelled | expired. A deadline timer expires
 * open questions (`question.expired`); timers are re-armed after a restart by `recover()`.
 */
/** Deadline kind of question expiry (key = question id, due at `deadline`). */
export const QUESTION_EXPIRY = 'question.expiry';

@Injectable()
export class QuestionsService implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly deadlines: DeadlineScheduler,
  ) {}

  onModuleInit(): void {
    this.deadlines.register({
      kind: QUESTION_EXPIRY,
      listPending: async () => {
        const open = await this.dataSource.getRepository(OperatorQuestionEntity).find({ where: { status: 'open' }, select: { id: true, deadline: true } });
        return open.filter((q) => q.deadline).map((q) => ({ key: q.id, dueAtMs: Date.parse(q.deadline!) }));
      },
      fire: async (id) => ((await this.expire(id)) ? 'fired' : 'nothing'),
    });
  }

  /** Questions newest first, optionally by status; `limit` 1..500 (default 100). */
  async list(q: { status?: QuestionStatus; limit?: number }): Promise<ListResponse<QuestionDto>> {
    const headSeq = await this.reader.getHeadSeq();
    const rows = await this.dataSource.getRepository(OperatorQuestionEntity).find({
      where: q.status ? { status: q.status } : {},
      order: { createdAt: 'DESC', id: 'ASC' },
      take: Math.min(MAX_QUESTION_PAGE, q.limit ?? 100),
    });
    return { items: rows.map(toQuestionDto), headSeq, epoch: this.reader.epoch };
  }

  /** @throws AppError `swarm/question_not_found` (404). */
  async get(id: string): Promise<QuestionDto> {
    const row = await this.dataSource.getRepository(OperatorQuestionEntity).findOne({ where: { id } });
    if (!row) throw notFound(id);
    return toQuestionDto(row);
  }

  /**
   * An agent asks the operators (`question.asked {question, options, multiple, deadline}`).
   * @throws 400 `swarm/invalid_options` (duplicate options), `swarm/invalid_deadline` (not in the future or > 30 days);
   *   404 `swarm/task_not_found` for an unknown taskId.
   */
  async ask(agentId: string, input: AskQuestionRequest): Promise<QuestionDto> {
    if (new Set(input.options).size !== input.options.length) throw swarmError('swarm/invalid_options', 'options must be distinct', 400);
    let deadline: string | null = null;
    if (input.deadline !== undefined) {
      const ms = Date.parse(input.deadline);
      if (!Number.isFinite(ms) || ms <= Date.now() || ms > Date.now() + MAX_DEADLINE_AHEAD_MS) {
        throw swarmError('swarm/invalid_deadline', 'deadline must be an ISO time in the future, at most 30 days ahead', 400);
      }
      deadline = new Date(ms).toISOString();
    }
    const row = await this.events.write(async (tx) => {
      if (input.taskId && !(await tx.manager.exists(TaskEntity, { where: { id: input.taskId } }))) {
        throw swarmError('swarm/task_not_found', `Task ${input.taskId} not found`, 404);
      }
      const now = nowIso();
      const q: OperatorQuestionEntity = {
        id: randomUUID(),
        agentId,
        taskId: input.taskId ?? null,
        question: input.question,
        options: input.options,
        multiple: input.multiple ?? false,
        deadline,
        status: 'open',
        answer: null,
        answeredBy: null,
        createdAt: now,
        resolvedAt: null,
        updatedAt: now,
      };
      await tx.manager.insert(OperatorQuestionEntity, q);
      tx.append({
        type: 'question.asked',
        source: agentSource(agentId),
        agentId,
        taskId: q.taskId,
        data: { questionId: q.id, question: q.question, options: q.options, multiple: q.multiple, deadline },
      });
      return q;
    });
    if (deadline) this.armDeadline(row.id, deadline);
    return toQuestionDto(row);
  }

  /**
   * An operator answers an open question (`question.answered {answer, answeredBy}`). A question past its deadline is
   * expired on the spot (`question.expired`) and refused.
   * @throws 404 `swarm/question_not_found`, 409 `swarm/question_not_open`, 400 `swarm/invalid_answer`.
   */
  async answer(id: string, answer: string[], actor: Actor): Promise<QuestionDto> {
    const outcome = await this.events.write(async (tx) => {
      const row = await this.openRow(tx, id);
      if ('expired' in row) return row;
      const problem = answerProblem(row.options, Boolean(row.multiple), answer);
      if (problem) throw swarmError('swarm/invalid_answer', problem, 400);
      const now = nowIso();
      const answeredBy = actorLabel(actor);
      Object.assign(row, { status: 'answered', answer, answeredBy, resolvedAt: now, updatedAt: now });
      await tx.manager.update(OperatorQuestionEntity, { id }, { status: 'answered', answer, answeredBy, resolvedAt: now, updatedAt: now });
      tx.append({ type: 'question.answered', source: 'coordinator', agentId: row.agentId, taskId: row.taskId, data: { questionId: id, answer, answeredBy } });
      return row;
    });
    if ('expired' in outcome) throw swarmError('swarm/question_not_open', `Question ${id} expired at ${outcome.expired}`, 409, { status: 'expired' });
    this.deadlines.disarm(QUESTION_EXPIRY, id);
    return toQuestionDto(outcome);
  }

  /**
   * Cancels an open question (`question.cancelled`): operators, or the agent that asked it.
   * @throws 404 `swarm/question_not_found`, 403 `swarm/not_asker`, 409 `swarm/question_not_open`.
   */
  async cancel(id: string, actor: Actor): Promise<QuestionDto> {
    const outcome = await this.events.write(async (tx) => {
      const existing = await tx.manager.findOne(OperatorQuestionEntity, { where: { id } });
      if (!existing) throw notFound(id);
      if (!actor.operator && (!actor.agentId || actor.agentId !== existing.agentId)) {
        throw swarmError('swarm/not_asker', 'Only operators or the asking agent may cancel this question', 403);
      }
      const row = await this.openRow(tx, id);
      if ('expired' in row) return row;
      const now = nowIso();
      Object.assign(row, { status: 'cancelled', resolvedAt: now, updatedAt: now });
      await tx.manager.update(OperatorQuestionEntity, { id }, { status: 'cancelled', resolvedAt: now, updatedAt: now });
      tx.append({
        type: 'question.cancelled',
        source: actor.agentId ? agentSource(actor.agentId) : 'coordinator',
        agentId: row.agentId,
        taskId: row.taskId,
        data: { questionId: id, by: actorLabel(actor) },
      });
      return row;
    });
    if ('expired' in outcome) throw swarmError('swarm/question_not_open', `Question ${id} expired at ${outcome.expired}`, 409, { status: 'expired' });
    this.deadlines.disarm(QUESTION_EXPIRY, id);
    return toQuestionDto(outcome);
  }

  /** Loads an open question; past its deadline it is expired here and `{expired}` returned. */
  private async openRow(tx: WriteContext, id: string): Promise<OperatorQuestionEntity | { expired: string }> {
    const row = await tx.manager.findOne(OperatorQuestionEntity, { where: { id } });
    if (!row) throw notFound(id);
    if (row.status !== 'open') throw swarmError('swarm/question_not_open', `Question ${id} is ${row.status}`, 409, { status: row.status });
    if (row.deadline && Date.parse(row.deadline) <= Date.now()) {
      await this.expireRow(tx, row);
      return { expired: row.deadline };
    }
    return row;
  }

  /** Expires an open question; a conditional update, so of several instances only one expires it. Returns false if it was no longer open. */
  private async expireRow(tx: WriteContext, row: OperatorQuestionEntity): Promise<boolean> {
    const now = nowIso();
    const r = await tx.manager.update(OperatorQuestionEntity, { id: row.id, status: 'open' }, { status: 'expired', resolvedAt: now, updatedAt: now });
    if (r.affected !== 1) return false;
    tx.append({ type: 'question.expired', source: 'coordinator', agentId: row.agentId, taskId: row.taskId, data: { questionId: row.id, deadline: row.deadline } });
    return true;
  }

  /** Expires an open question whose deadline has passed; returns false if there was nothing to do. */
  async expire(id: string): Promise<boolean> {
    return this.events.write(async (tx) => {
      const row = await tx.manager.findOne(OperatorQuestionEntity, { where: { id } });
      if (!row || row.status !== 'open' || !row.deadline || Date.parse(row.deadline) > Date.now()) return false;
      return this.expireRow(tx, row);
    });
  }

  private armDeadline(id: string, deadline: string): void {
    this.deadlines.arm(QUESTION_EXPIRY, id, Date.parse(deadline));
  }

  /** Restart recovery: expires open questions past their deadline and re-arms the others (deadline scheduler). */
  async recover(): Promise<{ questionsExpired: number; questionTimersRearmed: number }> {
    const { fired, armed } = await this.deadlines.resume(QUESTION_EXPIRY);
    return { questionsExpired: fired, questionTimersRearmed: armed };
  }
}

function notFound(id: string) {
  return swarmError('swarm/question_not_found', `Question ${id} not found`, 404);
}
