import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type {
  Principal,
  UpgradeConfigDto,
  UpgradeDetailDto,
  UpgradeFileDto,
  UpgradeListDto,
  UpgradeLogsDto,
  UpgradeState,
} from '@app/contracts';
import { DataSource, In, LessThanOrEqual, type EntityManager, type FindOptionsSelect, type FindOptionsWhere } from 'typeorm';
import { AppError } from '../common/app-error';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { EventLogReader } from '../event-log/event-log.reader';
import type { WriteContext } from '../event-log/event-log.types';
import { MessagesService } from '../swarm/messages/messages.service';
import { UpgradeDecisionEntity } from './entities/upgrade-decision.entity';
import { UpgradeEntity } from './entities/upgrade.entity';
import { DeadlineScheduler } from '../common/scheduling/deadline-scheduler';
import { GitError, UpgradeGit, type GitFileChange } from './upgrade-git';
import { isProtectedPath, toConfigDto, upgradeQueueConfig, type UpgradeQueueConfig } from './upgrade-queue.config';
import { upgradeError } from './upgrade-queue.errors';
import { toDecisionDto, toUpgradeDto, upgradeSource } from './upgrade.mappers';

/** Deadline kind of proposal expiry. */
export const UPGRADE_EXPIRY_KIND = 'upgrade.expiry';
/** Key of the PostgreSQL transaction-level advisory lock that serialises queue-order and claim decisions. */
export const PG_UPGRADE_LOCK_KEY = 764300001;
export const MAX_UPGRADE_PAGE = 200;
/** Max chars of an operator comment (also the message sent to the agent). */
export const MAX_COMMENT = 2000;

/** A computed proposal body: what git says about base..head. */
interface ProposalContent {
  baseCommit: string;
  headCommit: string;
  diff: string;
  diffSha256: string;
  files: UpgradeFileDto[];
  linesAdded: number;
  linesRemoved: number;
  requiresAdmin: boolean;
}

/** Who acts, from an authenticated principal. */
export interface UpgradeActor {
  agentId: string | null;
  username: string | null;
  role: Principal['role'];
  label: string;
}

export function actorOf(p: Principal): UpgradeActor {
  return { agentId: p.agentId, username: p.username, role: p.role, label: p.agentId ?? p.username ?? 'api' };
}

/** sha256 hex of a diff text (UTF-8). */
export function diffSha256(diff: string): string {
  return createHash('sha256').update(diff, 'utf8').digest('hex');
}

/**
 * The upgrade queue's proposals and decisions (module `upgrade-queue`, tables `upgrades` + `upgrade_decisions`,
 * channel `upgrades`). Every state change and its `upgrade.*` event(s) commit in one unit of work. The apply side
 * (worktree, tests, fast-forward, health check, rollback) is `UpgradeRunnerService`.
 */
@Injectable()
export class UpgradeQueueService implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger(UpgradeQueueService.name);
  readonly cfg: UpgradeQueueConfig;
  readonly git: UpgradeGit | null;
  private readonly isPg: boolean;
  /** Called after an approval/retry commits so this instance's runner looks at the queue at once. */
  onQueued: () => void = () => undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly reader: EventLogReader,
    private readonly messages: MessagesService,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly deadlines: DeadlineScheduler,
  ) {
    this.cfg = upgradeQueueConfig(config);
    this.git = this.cfg.repoPath ? new UpgradeGit(this.cfg.repoPath) : null;
    this.isPg = dataSource.options.type === 'postgres';
  }

  async onModuleInit(): Promise<void> {
    this.deadlines.register({
      kind: UPGRADE_EXPIRY_KIND,
      listPending: async () => {
        const rows = await this.dataSource.getRepository(UpgradeEntity).find({ where: { state: 'proposed' }, select: { id: true, expiresAt: true } });
        return rows.filter((r) => r.expiresAt).map((r) => ({ key: r.id, dueAtMs: Date.parse(r.expiresAt as string) }));
      },
      fire: async (id) => {
        const r = await this.expire(id);
        return r;
      },
    });
    if (this.cfg.enabled) {
      if (!(await this.git!.isRepo())) this.logger.error(`UPGRADE_REPO_PATH ${this.cfg.repoPath} is not a git repository: proposals will be refused`);
    } else {
      this.logger.log(this.cfg.hint!);
    }
  }

  /** Expires what fell due while no instance ran and arms the rest (the scheduler's sweep covers dead instances). */
  async onApplicationBootstrap(): Promise<void> {
    await this.deadlines.resume(UPGRADE_EXPIRY_KIND);
  }

  configDto(): UpgradeConfigDto {
    return toConfigDto(this.cfg);
  }

  /** @throws AppError `upgrade/disabled` (503) with the how-to-enable hint when the queue is off. */
  assertEnabled(): UpgradeGit {
    if (!this.cfg.enabled || !this.git) throw upgradeError('upgrade/disabled', this.cfg.hint ?? 'The upgrade queue is off', 503);
    return this.git;
  }

  /* -------------------------------------------------------------- proposing ------------------------------------ */

  /**
   * Proposes merging `branch` of the target repository. Records merge-base, head, the diff merge-base..head, its
   * sha256, the files and line counts; `upgrade.proposed` + `upgrade.approval_added`.
   * @throws AppError `upgrade/invalid_ref` (400) for a malformed branch name or the target branch itself,
   *   `upgrade/unknown_branch` (400) when no such branch exists, `upgrade/no_common_history` (400),
   *   `upgrade/empty_change` (400) when the branch adds nothing, `upgrade/too_many_lines` (400), `upgrade/disabled` (503).
   */
  async proposeBranch(actor: UpgradeActor, input: { title: string; rationale?: string; branch: string }): Promise<UpgradeDetailDto> {
    const git = this.assertEnabled();
    const branch = input.branch.replace(/^refs\/heads\//, '');
    if (!(await git.isValidBranchName(branch))) throw upgradeError('upgrade/invalid_ref', `"${input.branch}" is not a valid branch name`, 400);
    if (branch === this.cfg.targetBranch) throw upgradeError('upgrade/invalid_ref', `Cannot propose the target branch ${branch} itself`, 400);
    const head = await git.branchHead(branch);
    if (!head) throw upgradeError('upgrade/unknown_branch', `No branch "${branch}" in the upgrade repository`, 400);
    const content = await this.contentForBranch(git, head);
    return this.insertProposal(actor, { kind: 'branch', branch, title: input.title, rationale: input.rationale ?? '' }, content, randomUUID());
  }

  /**
   * Proposes a unified diff against the target branch's current head. The diff is applied with `git apply` to a
   * temporary index (no working tree touched) and kept as a commit under `refs/upgrades/<id>`; the stored diff is
   * git's own rendering of that commit.
   * @throws AppError `upgrade/diff_does_not_apply` (400) with git's message, `upgrade/empty_change` (400),
   *   `upgrade/too_many_lines` (400), `upgrade/disabled` (503).
   */
  async proposeDiff(actor: UpgradeActor, input: { title: string; rationale?: string; diff: string }): Promise<UpgradeDetailDto> {
    const git = this.assertEnabled();
    if (!input.diff.trim()) throw upgradeError('upgrade/empty_change', 'The diff is empty', 400);
    const target = await this.targetHead(git);
    const id = randomUUID();
    const ref = `refs/upgrades/${id}`;
    let head: string;
    try {
      head = await git.commitDiff(target, input.diff, `Upgrade proposal: ${input.title}\n\n${input.rationale ?? ''}`.trim(), ref);
    } catch (err) {
      if (err instanceof GitError) {
        throw upgradeError('upgrade/diff_does_not_apply', `The diff does not apply to ${this.cfg.targetBranch} (${target.slice(0, 12)}): ${err.message}`, 400);
      }
      throw err;
    }
    try {
      const content = await this.content(git, target, head);
      return await this.insertProposal(actor, { kind: 'diff', branch: null, title: input.title, rationale: input.rationale ?? '' }, content, id);
    } catch (err) {
      await git.deleteRef(ref);
      throw err;
    }
  }

  private async targetHead(git: UpgradeGit): Promise<string> {
    const head = await git.branchHead(this.cfg.targetBranch);
    if (!head) throw new AppError('upgrade/git_error', `Target branch ${this.cfg.targetBranch} does not exist in ${this.cfg.repoPath}`, 500);
    return head;
  }

  private async contentForBranch(git: UpgradeGit, head: string): Promise<ProposalContent> {
    const target = await this.targetHead(git);
    const base = await git.mergeBase(target, head);
    if (!base) throw upgradeError('upgrade/no_common_history', `The branch shares no history with ${this.cfg.targetBranch}`, 400);
    return this.content(git, base, head);
  }

  /** What git says about base..head, with the limits applied. */
  async content(git: UpgradeGit, base: string, head: string): Promise<ProposalContent> {
    const changes: GitFileChange[] = await git.changedFiles(base, head);
    if (changes.length === 0) throw upgradeError('upgrade/empty_change', `Nothing to merge: ${head.slice(0, 12)} adds no change over ${base.slice(0, 12)}`, 400);
    const files: UpgradeFileDto[] = changes.map((f) => ({
      ...f,
      protected: isProtectedPath(f.path, this.cfg.protectedPaths) || (f.oldPath !== null && isProtectedPath(f.oldPath, this.cfg.protectedPaths)),
    }));
    const linesAdded = files.reduce((s, f) => s + f.added, 0);
    const linesRemoved = files.reduce((s, f) => s + f.removed, 0);
    if (linesAdded + linesRemoved > this.cfg.maxDiffLines) {
      throw upgradeError('upgrade/too_many_lines', `The change has ${linesAdded + linesRemoved} changed lines; the limit is ${this.cfg.maxDiffLines}`, 400);
    }
    const diff = await git.diff(base, head);
    return { baseCommit: base, headCommit: head, diff, diffSha256: diffSha256(diff), files, linesAdded, linesRemoved, requiresAdmin: files.some((f) => f.protected) };
  }

  private async insertProposal(
    actor: UpgradeActor,
    meta: { kind: 'branch' | 'diff'; branch: string | null; title: string; rationale: string },
    c: ProposalContent,
    id: string,
  ): Promise<UpgradeDetailDto> {
    const now = nowIso();
    const expiresAt = new Date(Date.now() + this.cfg.proposalTtlMs).toISOString();
    const row: UpgradeEntity = {
      id,
      state: 'proposed',
      phase: null,
      kind: meta.kind,
      title: meta.title,
      rationale: meta.rationale,
      branch: meta.branch,
      proposedByAgentId: actor.agentId,
      proposedBy: actor.label,
      targetBranch: this.cfg.targetBranch,
      baseCommit: c.baseCommit,
      headCommit: c.headCommit,
      diffSha256: c.diffSha256,
      diff: c.diff,
      files: JSON.stringify(c.files),
      linesAdded: c.linesAdded,
      linesRemoved: c.linesRemoved,
      requiresAdmin: c.requiresAdmin,
      requiredApprovals: this.cfg.requiredApprovals,
      expiresAt,
      queuePosition: null,
      attempt: 0,
      claimedBy: null,
      leaseUntilMs: null,
      testedOnCommit: null,
      mergeCommit: null,
      previousHead: null,
      testOutput: '',
      testOutputTruncated: false,
      healthOutput: '',
      exitCode: null,
      failureReason: null,
      failureMessage: null,
      conflicts: '[]',
      createdAt: now,
      updatedAt: now,
      testStartedAt: null,
      finishedAt: null,
    };
    await this.events.write(async (tx) => {
      await tx.manager.insert(UpgradeEntity, row);
      const ref = { upgradeId: id, title: row.title };
      tx.append({
        type: 'upgrade.proposed',
        source: upgradeSource(actor),
        agentId: actor.agentId,
        data: {
          ...ref,
          kind: row.kind,
          branch: row.branch,
          baseCommit: row.baseCommit,
          headCommit: row.headCommit,
          diffSha256: row.diffSha256,
          files: c.files.length,
          linesAdded: row.linesAdded,
          linesRemoved: row.linesRemoved,
          requiresAdmin: row.requiresAdmin,
          by: actor.label,
        },
      });
      tx.append({
        type: 'upgrade.approval_added',
        source: 'upgrade-queue',
        agentId: actor.agentId,
        data: { ...ref, diffSha256: row.diffSha256, requiredApprovals: row.requiredApprovals, expiresAt, requiresAdmin: row.requiresAdmin },
      });
    });
    this.deadlines.arm(UPGRADE_EXPIRY_KIND, id, Date.parse(expiresAt));
    return this.get(id);
  }

  /* -------------------------------------------------------------- reading -------------------------------------- */

  /** Proposals newest first, filtered by states and proposing agent; `pending` counts `proposed`. */
  async list(q: { state?: UpgradeState[]; agentId?: string; limit?: number }): Promise<UpgradeListDto> {
    const headSeq = await this.reader.getHeadSeq();
    const where: FindOptionsWhere<UpgradeEntity> = {};
    if (q.state?.length) where.state = In(q.state);
    if (q.agentId) where.proposedByAgentId = q.agentId;
    const repo = this.dataSource.getRepository(UpgradeEntity);
    const rows = await repo.find({
      where,
      order: { createdAt: 'DESC', id: 'ASC' },
      take: Math.min(MAX_UPGRADE_PAGE, q.limit ?? 50),
      select: Object.fromEntries(repo.metadata.columns.map((c) => c.propertyName).filter((k) => k !== 'diff' && k !== 'testOutput' && k !== 'healthOutput').map((k) => [k, true])) as FindOptionsSelect<UpgradeEntity>,
    });
    const counts = await this.approvalCounts(this.dataSource.manager, rows);
    const pending = await repo.count({ where: { state: 'proposed' } });
    return { items: rows.map((r) => toUpgradeDto(r, counts.get(r.id) ?? 0)), pending, headSeq, epoch: this.reader.epoch };
  }

  /** One proposal with its diff and decision audit. @throws AppError `upgrade/not_found` (404). */
  async get(id: string): Promise<UpgradeDetailDto> {
    const row = await this.dataSource.getRepository(UpgradeEntity).findOne({ where: { id } });
    if (!row) throw upgradeError('upgrade/not_found', `Upgrade ${id} not found`, 404);
    const decisions = await this.dataSource.getRepository(UpgradeDecisionEntity).find({ where: { upgradeId: id }, order: { createdAt: 'ASC', id: 'ASC' } });
    const approvals = decisions.filter((d) => d.action === 'approve' && d.active && d.diffSha256 === row.diffSha256).length;
    return { ...toUpgradeDto(row, approvals), diff: row.diff, decisions: decisions.map(toDecisionDto) };
  }

  /** Test and health output of the latest attempt. @throws AppError `upgrade/not_found` (404). */
  async logs(id: string): Promise<UpgradeLogsDto> {
    const headSeq = await this.reader.getHeadSeq();
    const row = await this.dataSource.getRepository(UpgradeEntity).findOne({ where: { id } });
    if (!row) throw upgradeError('upgrade/not_found', `Upgrade ${id} not found`, 404);
    return { id, attempt: row.attempt, testOutput: row.testOutput, testOutputTruncated: row.testOutputTruncated, healthOutput: row.healthOutput, exitCode: row.exitCode, headSeq };
  }

  private async approvalCounts(m: EntityManager, rows: UpgradeEntity[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (rows.length === 0) return out;
    const ds = await m.find(UpgradeDecisionEntity, { where: { upgradeId: In(rows.map((r) => r.id)), action: 'approve', active: true } });
    const sha = new Map(rows.map((r) => [r.id, r.diffSha256]));
    for (const d of ds) if (sha.get(d.upgradeId) === d.diffSha256) out.set(d.upgradeId, (out.get(d.upgradeId) ?? 0) + 1);
    return out;
  }

  /* -------------------------------------------------------------- decisions ------------------------------------ */

  /**
   * One reviewer approves. With enough approvals on the current hash the proposal is `approved` and then `queued`.
   * A branch that moved since the proposal is re-read first: its approvals are dismissed, it goes back to
   * `proposed`, and this call fails with `upgrade/stale_hash`.
   * @throws AppError `upgrade/not_found` (404), `upgrade/invalid_transition` (409, not proposed),
   *   `upgrade/own_proposal` (403), `upgrade/admin_required` (403, protected paths), `upgrade/stale_hash` (409, the
   *   given `diffSha256` is not the current one, or the branch moved), `upgrade/already_approved` (409).
   */
  async approve(actor: UpgradeActor, id: string, input: { comment?: string; diffSha256?: string }): Promise<UpgradeDetailDto> {
    this.assertEnabled();
    if (await this.refreshIfMoved(id)) {
      throw upgradeError('upgrade/stale_hash', 'The branch moved since it was proposed: its approvals were dismissed; review the new diff', 409);
    }
    let queued = false;
    await this.events.write(async (tx) => {
      await this.lockQueue(tx.manager);
      const row = await this.mustFind(tx.manager, id);
      if (row.state !== 'proposed') throw upgradeError('upgrade/invalid_transition', `Upgrade ${id} is ${row.state}; only proposed upgrades can be approved`, 409);
      this.assertNotProposer(actor, row);
      if (row.requiresAdmin && actor.role !== 'admin') {
        throw upgradeError('upgrade/admin_required', 'This upgrade changes protected paths: an admin must approve it', 403);
      }
      if (input.diffSha256 && input.diffSha256 !== row.diffSha256) {
        throw upgradeError('upgrade/stale_hash', `You reviewed diff ${input.diffSha256.slice(0, 12)}; the current diff is ${row.diffSha256.slice(0, 12)}. Review it again.`, 409);
      }
      const active = await tx.manager.find(UpgradeDecisionEntity, { where: { upgradeId: id, action: 'approve', active: true, diffSha256: row.diffSha256 } });
      if (active.some((d) => d.by === actor.label)) throw upgradeError('upgrade/already_approved', `${actor.label} already approved this diff`, 409);
      const comment = input.comment?.trim() || null;
      await this.audit(tx.manager, row, actor, 'approve', comment);
      const approvals = active.length + 1;
      const ref = { upgradeId: id, title: row.title };
      const source = upgradeSource(actor);
      tx.append({ type: 'upgrade.approval_recorded', source, agentId: row.proposedByAgentId, data: { ...ref, by: actor.label, diffSha256: row.diffSha256, comment, approvals, requiredApprovals: row.requiredApprovals } });
      if (approvals < row.requiredApprovals) return;
      const now = nowIso();
      const position = await this.nextQueuePosition(tx.manager);
      await tx.manager.update(UpgradeEntity, { id, state: 'proposed' }, { state: 'queued', queuePosition: position, updatedAt: now });
      tx.append({ type: 'upgrade.approved', source, agentId: row.proposedByAgentId, data: { ...ref, by: actor.label, diffSha256: row.diffSha256, approvals, from: 'proposed' } });
      tx.append({ type: 'upgrade.approval_resolved', source, agentId: row.proposedByAgentId, data: { ...ref, outcome: 'approved', by: actor.label, diffSha256: row.diffSha256 } });
      tx.append({ type: 'upgrade.queued', source, agentId: row.proposedByAgentId, data: { ...ref, position, from: 'approved', by: actor.label } });
      queued = true;
    });
    if (queued) {
      this.deadlines.disarm(UPGRADE_EXPIRY_KIND, id);
      this.onQueued();
    }
    return this.get(id);
  }

  /**
   * Rejects with a comment; the comment goes back to the proposing agent as a message (`message.sent`).
   * @throws AppError `upgrade/not_found` (404), `upgrade/invalid_transition` (409), `upgrade/own_proposal` (403),
   *   `upgrade/stale_hash` (409).
   */
  async reject(actor: UpgradeActor, id: string, input: { comment?: string; diffSha256?: string }): Promise<UpgradeDetailDto> {
    this.assertEnabled();
    await this.events.write(async (tx) => {
      const row = await this.mustFind(tx.manager, id);
      if (row.state !== 'proposed') throw upgradeError('upgrade/invalid_transition', `Upgrade ${id} is ${row.state}; only proposed upgrades can be rejected`, 409);
      this.assertNotProposer(actor, row);
      if (input.diffSha256 && input.diffSha256 !== row.diffSha256) {
        throw upgradeError('upgrade/stale_hash', `You reviewed diff ${input.diffSha256.slice(0, 12)}; the current diff is ${row.diffSha256.slice(0, 12)}`, 409);
      }
      const comment = input.comment?.trim() || null;
      await this.finish(tx, row, 'rejected', { finishedAt: nowIso() });
      await this.audit(tx.manager, row, actor, 'reject', comment);
      const ref = { upgradeId: id, title: row.title };
      const source = upgradeSource(actor);
      tx.append({ type: 'upgrade.rejected', source, agentId: row.proposedByAgentId, data: { ...ref, by: actor.label, diffSha256: row.diffSha256, comment, from: 'proposed' } });
      tx.append({ type: 'upgrade.approval_resolved', source, agentId: row.proposedByAgentId, data: { ...ref, outcome: 'rejected', by: actor.label, diffSha256: row.diffSha256 } });
      await this.tellAgent(tx, actor, row, `Your upgrade "${row.title}" was rejected by ${actor.label}${comment ? `: ${comment}` : ' (no comment)'}`);
    });
    this.deadlines.disarm(UPGRADE_EXPIRY_KIND, id);
    return this.get(id);
  }

  /**
   * Withdraws a proposal that has not started testing (the proposer, or an operator).
   * @throws AppError `upgrade/not_found` (404), `upgrade/invalid_transition` (409), `upgrade/not_proposer` (403).
   */
  async cancel(actor: UpgradeActor, id: string, input: { comment?: string }): Promise<UpgradeDetailDto> {
    this.assertEnabled();
    await this.events.write(async (tx) => {
      const row = await this.mustFind(tx.manager, id);
      const isOperator = actor.role === 'admin' || actor.role === 'operator';
      if (!isOperator && !(actor.agentId && actor.agentId === row.proposedByAgentId)) {
        throw upgradeError('upgrade/not_proposer', 'Only the proposing agent or an operator can cancel an upgrade', 403);
      }
      if (!['proposed', 'approved', 'queued'].includes(row.state)) {
        throw upgradeError('upgrade/invalid_transition', `Upgrade ${id} is ${row.state}; only proposed, approved or queued upgrades can be cancelled`, 409);
      }
      const from = row.state;
      const comment = input.comment?.trim() || null;
      await this.finish(tx, row, 'cancelled', { finishedAt: nowIso(), queuePosition: null });
      await this.audit(tx.manager, row, actor, 'cancel', comment);
      const ref = { upgradeId: id, title: row.title };
      const source = upgradeSource(actor);
      tx.append({ type: 'upgrade.cancelled', source, agentId: row.proposedByAgentId, data: { ...ref, by: actor.label, comment, from } });
      if (from === 'proposed') {
        tx.append({ type: 'upgrade.approval_resolved', source, agentId: row.proposedByAgentId, data: { ...ref, outcome: 'cancelled', by: actor.label, diffSha256: row.diffSha256 } });
      }
    });
    this.deadlines.disarm(UPGRADE_EXPIRY_KIND, id);
    return this.get(id);
  }

  /**
   * Puts a `failed` or `rolled_back` upgrade back in the queue (same approved hash; a moved branch goes back to
   * `proposed` instead, its approvals dismissed).
   * @throws AppError `upgrade/not_found` (404), `upgrade/invalid_transition` (409).
   */
  async retry(actor: UpgradeActor, id: string): Promise<UpgradeDetailDto> {
    this.assertEnabled();
    const row0 = await this.mustFind(this.dataSource.manager, id);
    if ((row0.state === 'failed' || row0.state === 'rolled_back') && row0.kind === 'branch' && row0.branch) {
      const git = this.assertEnabled();
      const head = await git.branchHead(row0.branch);
      if (head && head !== row0.headCommit) {
        // the branch moved since it was approved: back to review with the new diff, never re-queued unreviewed
        const content = await this.contentForBranch(git, head);
        await this.applyMovedContent(id, row0.headCommit, content, ['failed', 'rolled_back']);
        return this.get(id);
      }
    }
    let queued = false;
    await this.events.write(async (tx) => {
      await this.lockQueue(tx.manager);
      const row = await this.mustFind(tx.manager, id);
      if (row.state !== 'failed' && row.state !== 'rolled_back') {
        throw upgradeError('upgrade/invalid_transition', `Upgrade ${id} is ${row.state}; only failed or rolled back upgrades can be retried`, 409);
      }
      const from = row.state;
      const position = await this.nextQueuePosition(tx.manager);
      const res = await tx.manager.update(UpgradeEntity, { id, state: from }, {
        state: 'queued',
        phase: null,
        queuePosition: position,
        failureReason: null,
        failureMessage: null,
        exitCode: null,
        conflicts: '[]',
        finishedAt: null,
        claimedBy: null,
        leaseUntilMs: null,
        updatedAt: nowIso(),
      });
      if (!res.affected) throw upgradeError('upgrade/invalid_transition', `Upgrade ${id} changed state; try again`, 409);
      await this.audit(tx.manager, row, actor, 'retry', null);
      const ref = { upgradeId: id, title: row.title };
      const source = upgradeSource(actor);
      tx.append({ type: 'upgrade.retried', source, agentId: row.proposedByAgentId, data: { ...ref, by: actor.label, from } });
      tx.append({ type: 'upgrade.queued', source, agentId: row.proposedByAgentId, data: { ...ref, position, from, by: actor.label } });
      queued = true;
    });
    if (queued) this.onQueued();
    return this.get(id);
  }

  /**
   * Expires a proposal whose deadline passed (deadline scheduler `fire`): a conditional update, so it succeeds once
   * across instances. Returns `fired` when this call expired it, `early` when its (possibly renewed) deadline is
   * still ahead, `nothing` when it is no longer proposed.
   */
  async expire(id: string): Promise<'fired' | 'nothing' | 'early'> {
    return this.events.write(async (tx) => {
      const row = await tx.manager.findOne(UpgradeEntity, { where: { id, state: 'proposed' } });
      if (!row || !row.expiresAt) return 'nothing';
      if (row.expiresAt > nowIso()) return 'early';
      const res = await tx.manager.update(UpgradeEntity, { id, state: 'proposed', expiresAt: LessThanOrEqual(nowIso()) }, { state: 'expired', finishedAt: nowIso(), updatedAt: nowIso() });
      if (!res.affected) return 'nothing';
      const system: UpgradeActor = { agentId: null, username: null, role: 'admin', label: 'system' };
      await this.audit(tx.manager, row, system, 'expire', `No decision before ${row.expiresAt}`);
      const ref = { upgradeId: id, title: row.title };
      tx.append({ type: 'upgrade.expired', source: 'upgrade-queue', agentId: row.proposedByAgentId, data: { ...ref, expiresAt: row.expiresAt, from: 'proposed' } });
      tx.append({ type: 'upgrade.approval_resolved', source: 'upgrade-queue', agentId: row.proposedByAgentId, data: { ...ref, outcome: 'expired', by: 'system', diffSha256: row.diffSha256 } });
      await this.tellAgent(tx, system, row, `Your upgrade "${row.title}" expired: no decision before ${row.expiresAt}`);
      return 'fired' as const;
    });
  }

  /**
   * Re-reads a branch proposal's branch. When it moved (and the proposal is proposed, approved or queued), the new
   * diff replaces the old, approvals bound to the old hash are dismissed and the proposal is back to `proposed`
   * with a fresh deadline (`upgrade.approval_dismissed` + `upgrade.approval_added`). Returns true when it moved.
   * A branch that vanished or no longer merges is left as it is (the run fails it with the reason).
   */
  async refreshIfMoved(id: string): Promise<boolean> {
    const git = this.assertEnabled();
    const row = await this.dataSource.getRepository(UpgradeEntity).findOne({ where: { id }, select: { id: true, kind: true, branch: true, headCommit: true, state: true } });
    if (!row || row.kind !== 'branch' || !row.branch || !['proposed', 'approved', 'queued', 'testing'].includes(row.state)) return false;
    const head = await git.branchHead(row.branch);
    if (!head || head === row.headCommit) return false;
    let content: ProposalContent;
    try {
      content = await this.contentForBranch(git, head);
    } catch {
      return false;
    }
    return this.applyMovedContent(id, row.headCommit, content, ['proposed', 'approved', 'queued']);
  }

  /**
   * Records a moved branch's new content (see `refreshIfMoved`) if the row is still at `oldHead` and in one of
   * `states`. Used by the runner too (state `testing` it owns).
   */
  async applyMovedContent(id: string, oldHead: string, c: ProposalContent, states: UpgradeState[]): Promise<boolean> {
    const expiresAt = new Date(Date.now() + this.cfg.proposalTtlMs).toISOString();
    const moved = await this.events.write(async (tx) => {
      const row = await tx.manager.findOne(UpgradeEntity, { where: { id } });
      if (!row || row.headCommit !== oldHead || !states.includes(row.state)) return false;
      const from = row.state;
      const now = nowIso();
      const dismissed = await tx.manager.update(UpgradeDecisionEntity, { upgradeId: id, action: 'approve', active: true }, { active: false });
      await tx.manager.update(UpgradeEntity, { id, headCommit: oldHead }, {
        state: 'proposed',
        phase: null,
        baseCommit: c.baseCommit,
        headCommit: c.headCommit,
        diff: c.diff,
        diffSha256: c.diffSha256,
        files: JSON.stringify(c.files),
        linesAdded: c.linesAdded,
        linesRemoved: c.linesRemoved,
        requiresAdmin: c.requiresAdmin,
        queuePosition: null,
        claimedBy: null,
        leaseUntilMs: null,
        expiresAt,
        updatedAt: now,
      });
      const system: UpgradeActor = { agentId: null, username: null, role: 'admin', label: 'system' };
      await this.audit(tx.manager, row, system, 'dismiss', `Branch ${row.branch} moved ${oldHead.slice(0, 12)} -> ${c.headCommit.slice(0, 12)}`);
      const ref = { upgradeId: id, title: row.title };
      tx.append({
        type: 'upgrade.approval_dismissed',
        source: 'upgrade-queue',
        agentId: row.proposedByAgentId,
        data: { ...ref, oldSha256: row.diffSha256, newSha256: c.diffSha256, oldHead, newHead: c.headCommit, dismissed: dismissed.affected ?? 0, from },
      });
      if (from !== 'proposed') {
        tx.append({ type: 'upgrade.approval_resolved', source: 'upgrade-queue', agentId: row.proposedByAgentId, data: { ...ref, outcome: 'dismissed', by: 'system', diffSha256: row.diffSha256 } });
      }
      tx.append({ type: 'upgrade.approval_added', source: 'upgrade-queue', agentId: row.proposedByAgentId, data: { ...ref, diffSha256: c.diffSha256, requiredApprovals: row.requiredApprovals, expiresAt, requiresAdmin: c.requiresAdmin } });
      return true;
    });
    if (moved) this.deadlines.arm(UPGRADE_EXPIRY_KIND, id, Date.parse(expiresAt));
    return moved;
  }

  /* -------------------------------------------------------------- helpers -------------------------------------- */

  /** Serialises queue-order and claim decisions across instances on PostgreSQL (SQLite has one writer). */
  async lockQueue(m: EntityManager): Promise<void> {
    if (this.isPg) await m.query('SELECT pg_advisory_xact_lock($1)', [PG_UPGRADE_LOCK_KEY]);
  }

  private async nextQueuePosition(m: EntityManager): Promise<number> {
    const r = await m.createQueryBuilder(UpgradeEntity, 'u').select('MAX(u.queuePosition)', 'max').getRawOne<{ max: string | number | null }>();
    return Number(r?.max ?? 0) + 1;
  }

  private async mustFind(m: EntityManager, id: string): Promise<UpgradeEntity> {
    const row = await m.findOne(UpgradeEntity, { where: { id } });
    if (!row) throw upgradeError('upgrade/not_found', `Upgrade ${id} not found`, 404);
    return row;
  }

  private assertNotProposer(actor: UpgradeActor, row: UpgradeEntity): void {
    const own = row.proposedByAgentId ? actor.agentId === row.proposedByAgentId : actor.agentId === null && actor.label === row.proposedBy;
    if (own) throw upgradeError('upgrade/own_proposal', 'The proposer cannot decide on its own upgrade', 403);
  }

  /** Moves a row to a final decision state (conditional on its current state). */
  private async finish(tx: WriteContext, row: UpgradeEntity, state: UpgradeState, extra: Partial<UpgradeEntity>): Promise<void> {
    const res = await tx.manager.update(UpgradeEntity, { id: row.id, state: row.state }, { state, updatedAt: nowIso(), ...extra });
    if (!res.affected) throw upgradeError('upgrade/invalid_transition', `Upgrade ${row.id} changed state; try again`, 409);
  }

  private async audit(m: EntityManager, row: UpgradeEntity, actor: UpgradeActor, action: UpgradeDecisionEntity['action'], comment: string | null): Promise<void> {
    await m.insert(UpgradeDecisionEntity, {
      id: randomUUID(),
      upgradeId: row.id,
      action,
      by: actor.label,
      role: actor.role,
      diffSha256: row.diffSha256,
      comment,
      active: action === 'approve',
      createdAt: nowIso(),
    });
  }

  /** Sends `body` to the proposing agent (if it was an agent that still exists) inside `tx`. */
  async tellAgent(tx: WriteContext, actor: UpgradeActor, row: UpgradeEntity, body: string): Promise<void> {
    if (!row.proposedByAgentId) return;
    try {
      await this.messages.sendInTx(tx, { agentId: null, username: actor.username, operator: true }, row.proposedByAgentId, body.slice(0, 4000));
    } catch (err) {
      if (err instanceof AppError && err.code === 'swarm/agent_not_found') return;
      throw err;
    }
  }
}
