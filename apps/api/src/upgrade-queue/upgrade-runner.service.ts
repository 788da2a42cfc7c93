import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { UpgradeFailureReason, UpgradePhase, UpgradeState } from '@app/contracts';
import { DataSource, In, IsNull, LessThan } from 'typeorm';
import { nowIso } from '../common/time.util';
import { EventLogWriter } from '../event-log/event-log.writer';
import type { WriteContext } from '../event-log/event-log.types';
import { UpgradeEntity } from './entities/upgrade.entity';
import { killGroup, runCommand, type UpgradeGit } from './upgrade-git';
import { UpgradeQueueService } from './upgrade-queue.service';

/** Test runs of one proposal (re-tests after the target moved, restarts) before it fails. */
export const MAX_ATTEMPTS = 5;
/** Interval of coalesced `upgrade.test_output` events while a command runs. */
export const OUTPUT_FLUSH_MS = 250;
/** Name of the reused worktree under UPGRADE_WORKTREE_DIR. */
export const LANE_DIR = 'lane';

/** This instance lost its claim on a running upgrade (its lease lapsed and another instance took it). */
class LostClaimError extends Error {
  constructor(id: string) {
    super(`lost the claim on upgrade ${id}`);
    this.name = 'LostClaimError';
  }
}

type Outcome =
  | { kind: 'applied' }
  | { kind: 'failed'; reason: UpgradeFailureReason; message: string; exitCode?: number | null; conflicts?: string[] }
  | { kind: 'rolled_back' }
  | { kind: 'requeued' };

/**
 * The apply side of the upgrade queue, a merge queue of one lane: takes the first `queued` proposal (queue order),
 * claims it across instances (conditional UPDATE under the queue lock, plus a renewed lease), and
 * 1. resets the queue's one reused, isolated `git worktree` (`<UPGRADE_WORKTREE_DIR>/lane`) to the target branch's
 *    current head (reset --hard, checkout --detach --force, clean -ffdx: only touched files change) and merges the
 *    proposal there (a conflict fails it with the conflicting files; the repository's own working tree is never
 *    touched);
 * 2. runs `UPGRADE_TEST_COMMAND` there with a timeout and bounded output, streamed as `upgrade.test_output`;
 *    pass = exit code 0;
 * 3. fast-forwards the target to exactly the tested merge commit only if the target is still at the tested head
 *    (compare-and-swap), else re-tests on the new head;
 * 4. runs `UPGRADE_HEALTH_COMMAND` in the repository; red = reset the target back to the previous head (`rolled_back`).
 * Every step's phase is committed before the step runs, so after a crash (lease lapsed) any instance resumes:
 * merging/testing re-run from a clean worktree; fast_forwarding checks where the target is (at the merge commit:
 * go on with the health check; at the tested head: fast-forward; elsewhere: re-test); health_check re-runs the check;
 * rolling_back finishes the reset. The target is only ever at a tested merge commit or the head before it.
 */
@Injectable()
export class UpgradeRunnerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UpgradeRunnerService.name);
  readonly instanceId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = false;
  private wakeRequested = false;
  private currentTick: Promise<void> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly queue: UpgradeQueueService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.queue.cfg.enabled) return;
    this.queue.onQueued = () => this.wake();
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // a run in flight is left to its lease: another instance (or this one after restart) resumes it
  }

  /** Looks at the queue now (after an approval on this instance). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.loop(), ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    this.currentTick = (async () => {
      try {
        // keep going while there is work; then poll
        while (!this.stopped && (await this.tick())) {
          /* next */
        }
      } catch (err) {
        this.logger.error(`upgrade runner: ${(err as Error).message}`);
      }
    })();
    await this.currentTick;
    this.running = false;
    const again = this.wakeRequested;
    this.wakeRequested = false;
    this.schedule(again ? 0 : this.queue.cfg.pollMs);
  }

  /** One pass: resume a lapsed run, or start the next queued one. Returns whether it did a run. */
  async tick(): Promise<boolean> {
    const resumed = await this.claimLapsed();
    if (resumed) {
      await this.execute(resumed.row, resumed.phase, 'resumed after the previous runner stopped');
      return true;
    }
    const next = await this.claimNext();
    if (!next) return false;
    await this.execute(next, null, 'queued');
    return true;
  }

  /** Claims a `testing` row whose lease lapsed (its runner died). */
  private async claimLapsed(): Promise<{ row: UpgradeEntity; phase: UpgradePhase | null } | null> {
    const now = Date.now();
    const candidates = await this.dataSource.getRepository(UpgradeEntity).find({
      where: [
        { state: 'testing', leaseUntilMs: LessThan(now) },
        { state: 'testing', leaseUntilMs: IsNull() },
      ],
      order: { queuePosition: 'ASC' },
      take: 1,
    });
    const c = candidates[0];
    if (!c) return null;
    const claimed = await this.events.write(async (tx) => {
      await this.queue.lockQueue(tx.manager);
      const res = await tx.manager
        .createQueryBuilder()
        .update(UpgradeEntity)
        .set({ claimedBy: this.instanceId, leaseUntilMs: Date.now() + this.queue.cfg.leaseMs, updatedAt: nowIso() })
        .where('id = :id AND state = :state AND (leaseUntilMs IS NULL OR leaseUntilMs < :now)', { id: c.id, state: 'testing', now })
        .execute();
      return (res.affected ?? 0) > 0;
    });
    if (!claimed) return null;
    const row = await this.dataSource.getRepository(UpgradeEntity).findOneOrFail({ where: { id: c.id } });
    this.logger.warn(`resuming upgrade ${row.id} from phase ${row.phase} (previous runner ${c.claimedBy} stopped)`);
    return { row, phase: row.phase };
  }

  /** Claims the first queued proposal when no proposal is testing (one lane, across instances). */
  private async claimNext(): Promise<UpgradeEntity | null> {
    const id = await this.events.write(async (tx) => {
      await this.queue.lockQueue(tx.manager);
      if (await tx.manager.exists(UpgradeEntity, { where: { state: 'testing' } })) return null;
      const next = await tx.manager.findOne(UpgradeEntity, { where: { state: 'queued' }, order: { queuePosition: 'ASC', id: 'ASC' } });
      if (!next) return null;
      const res = await tx.manager.update(
        UpgradeEntity,
        { id: next.id, state: 'queued' },
        { state: 'testing', phase: 'merging', claimedBy: this.instanceId, leaseUntilMs: Date.now() + this.queue.cfg.leaseMs, updatedAt: nowIso() },
      );
      return res.affected ? next.id : null;
    });
    return id ? this.dataSource.getRepository(UpgradeEntity).findOneOrFail({ where: { id } }) : null;
  }

  /** Runs a claimed row from `phase` to a final state, renewing the lease meanwhile. */
  private async execute(row: UpgradeEntity, phase: UpgradePhase | null, reason: string): Promise<void> {
    const git = this.queue.git!;
    const lease = setInterval(() => void this.renewLease(row.id), Math.max(200, Math.floor(this.queue.cfg.leaseMs / 3)));
    lease.unref();
    try {
      await this.removeStaleWorktrees(git, row.id);
      let outcome: Outcome;
      if (phase === 'fast_forwarding') outcome = await this.resumeFastForward(git, row);
      else if (phase === 'health_check') outcome = await this.resumeHealth(git, row);
      else if (phase === 'rolling_back') outcome = await this.resumeRollback(git, row);
      else outcome = await this.testAndApply(git, row, phase === null ? reason : `restarted: ${reason}`);
      await this.finishRun(row, outcome);
    } catch (err) {
      if (err instanceof LostClaimError) {
        this.logger.warn(err.message);
        return;
      }
      this.logger.error(`upgrade ${row.id} run error: ${(err as Error).message}`);
      await this.finishRun(row, { kind: 'failed', reason: 'git_error', message: (err as Error).message.slice(0, 2000) }).catch(() => undefined);
    } finally {
      clearInterval(lease);
    }
  }

  private async renewLease(id: string): Promise<void> {
    await this.events
      .write((tx) => tx.manager.update(UpgradeEntity, { id, state: 'testing', claimedBy: this.instanceId }, { leaseUntilMs: Date.now() + this.queue.cfg.leaseMs }))
      .catch(() => undefined);
  }

  /** Updates the claimed row (and appends events) only while this instance still holds it. */
  private async update(id: string, patch: Partial<UpgradeEntity>, events: (tx: WriteContext) => void = () => undefined): Promise<void> {
    await this.events.write(async (tx) => {
      const res = await tx.manager.update(UpgradeEntity, { id, state: 'testing', claimedBy: this.instanceId }, { ...patch, updatedAt: nowIso() });
      if (!res.affected) throw new LostClaimError(id);
      events(tx);
    });
  }

  /** Removes per-run worktrees (`<id>-<attempt>`) that runs before the reused lane worktree left behind. */
  private async removeStaleWorktrees(git: UpgradeGit, id: string): Promise<void> {
    let names: string[] = [];
    try {
      names = readdirSync(this.queue.cfg.worktreeDir).filter((n) => n.startsWith(`${id}-`));
    } catch {
      return; // no worktree directory yet
    }
    for (const n of names) await git.removeWorktree(join(this.queue.cfg.worktreeDir, n));
  }

  /**
   * The queue's one long-lived worktree (`<UPGRADE_WORKTREE_DIR>/lane`), reused by every run: one lane, one run at a
   * time across instances (the claim), so one tree. Each run starts by resetting it to the target head
   * (`UpgradeGit.prepareWorktree`), so a run killed mid-merge or mid-test leaves nothing the next run sees.
   */
  private lanePath(): string {
    return join(this.queue.cfg.worktreeDir, LANE_DIR);
  }

  /** Where the process-group id of the test command running in the lane is kept (next to the lane). */
  private lanePidFile(): string {
    return join(this.queue.cfg.worktreeDir, `${LANE_DIR}.pid`);
  }

  /**
   * Kills the test command a killed instance left running in the lane (its process group survives a kill -9 of
   * the API), so it cannot write into the tree the next run tests. Only a live process whose working directory is
   * inside the lane is killed (`/proc/<pid>/cwd`; a reused pid elsewhere is left alone).
   */
  private killOrphanedLaneTest(): void {
    const file = this.lanePidFile();
    let pid = 0;
    try {
      pid = Number(readFileSync(file, 'utf8').trim());
    } catch {
      return; // no test was running
    }
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (pid > 0 && (cwd === this.lanePath() || cwd.startsWith(`${this.lanePath()}/`))) {
        this.logger.warn(`killing the orphaned test process group ${pid} left in the lane worktree`);
        killGroup(pid);
      }
    } catch {
      /* gone already, or not ours to look at */
    }
    rmSync(file, { force: true });
  }

  /** Merge + test + fast-forward, re-testing while the target moves under it; then the health check. */
  private async testAndApply(git: UpgradeGit, row: UpgradeEntity, reason: string): Promise<Outcome> {
    const target = this.queue.cfg.targetBranch;
    let why = reason;
    for (;;) {
      if (row.attempt >= MAX_ATTEMPTS) {
        return { kind: 'failed', reason: why.startsWith('restarted') ? 'crashed' : 'head_moved_too_often', message: `Gave up after ${row.attempt} attempts (last: ${why})` };
      }
      // a branch that moved since approval goes back to review (never test a diff nobody approved)
      if (row.kind === 'branch' && row.branch) {
        const head = await git.branchHead(row.branch);
        if (!head) return { kind: 'failed', reason: 'git_error', message: `Branch ${row.branch} no longer exists` };
        if (head !== row.headCommit) {
          try {
            const content = await this.queue.content(git, (await git.mergeBase((await git.branchHead(target))!, head)) ?? row.baseCommit, head);
            if (await this.queue.applyMovedContent(row.id, row.headCommit, content, ['testing'])) return { kind: 'requeued' };
          } catch (err) {
            return { kind: 'failed', reason: 'git_error', message: `Branch ${row.branch} moved and its new content is refused: ${(err as Error).message}` };
          }
        }
      }
      const targetHead = await git.branchHead(target);
      if (!targetHead) return { kind: 'failed', reason: 'git_error', message: `Target branch ${target} not found` };
      const attempt = row.attempt + 1;
      const wt = this.lanePath();
      await this.update(
        row.id,
        { phase: 'merging', attempt, testedOnCommit: targetHead, mergeCommit: null, previousHead: null, testOutput: '', testOutputTruncated: false, healthOutput: '', exitCode: null, testStartedAt: nowIso() },
        (tx) =>
          tx.append({
            type: 'upgrade.testing',
            source: 'upgrade-queue',
            agentId: row.proposedByAgentId,
            data: { upgradeId: row.id, title: row.title, attempt, targetHead, mergeCommit: null, reason: why, from: attempt === 1 ? 'queued' : 'testing' },
          }),
      );
      row.attempt = attempt;
      {
        this.killOrphanedLaneTest();
        await git.prepareWorktree(wt, targetHead);
        const merged = await git.mergeInWorktree(wt, row.headCommit, `Upgrade ${row.id}: ${row.title}`);
        if (!merged.ok) {
          return { kind: 'failed', reason: 'conflict', message: `Merge into ${target} (${targetHead.slice(0, 12)}) conflicts: ${merged.conflicts.join(', ') || merged.message}`, conflicts: merged.conflicts };
        }
        await this.update(row.id, { phase: 'testing', mergeCommit: merged.mergeCommit });
        const test = await this.runStreamed(row, attempt, this.queue.cfg.testCommand!, wt, this.queue.cfg.testTimeoutMs);
        if (test.timedOut) return { kind: 'failed', reason: 'test_timeout', message: `Test command timed out after ${this.queue.cfg.testTimeoutMs} ms`, exitCode: null };
        if (test.exitCode !== 0) {
          return { kind: 'failed', reason: 'tests_failed', message: `Test command exited with ${test.exitCode ?? `signal ${test.signal}`}`, exitCode: test.exitCode };
        }
        // the tested tree must still be the merge commit (a test command that commits or checks out is not a pass)
        const testedAt = await git.worktreeHead(wt);
        if (testedAt !== merged.mergeCommit) {
          return { kind: 'failed', reason: 'git_error', message: `The test command moved the worktree's HEAD (${testedAt?.slice(0, 12)} instead of ${merged.mergeCommit.slice(0, 12)})` };
        }
        await this.fault('before_ff');
        // the phase (with the head to return to) is durable before the target moves
        await this.update(row.id, { phase: 'fast_forwarding', previousHead: targetHead, exitCode: 0 });
        const moved = await git.fastForward(target, targetHead, merged.mergeCommit);
        if (!moved) {
          why = `target ${target} moved after the test; re-testing on its new head`;
          continue;
        }
        await this.fault('after_ff');
        return this.healthCheck(git, { ...row, mergeCommit: merged.mergeCommit, previousHead: targetHead });
      }
    }
  }

  /** After a crash in fast_forwarding: decide from where the target is. */
  private async resumeFastForward(git: UpgradeGit, row: UpgradeEntity): Promise<Outcome> {
    const target = this.queue.cfg.targetBranch;
    const head = await git.branchHead(target);
    if (row.mergeCommit && head === row.mergeCommit) return this.healthCheck(git, row);
    if (row.mergeCommit && row.previousHead && head === row.previousHead && (await git.resolveCommit(row.mergeCommit))) {
      await this.update(row.id, { phase: 'fast_forwarding' });
      if (await git.fastForward(target, row.previousHead, row.mergeCommit)) return this.healthCheck(git, row);
    }
    return this.testAndApply(git, row, 'restarted: the target moved while the fast-forward was interrupted');
  }

  private async resumeHealth(git: UpgradeGit, row: UpgradeEntity): Promise<Outcome> {
    const head = await git.branchHead(this.queue.cfg.targetBranch);
    if (row.mergeCommit && head === row.mergeCommit) return this.healthCheck(git, row);
    if (row.previousHead && head === row.previousHead) return { kind: 'rolled_back' };
    return { kind: 'failed', reason: 'crashed', message: `Restarted during the health check and the target is now at ${head?.slice(0, 12)}: not touched` };
  }

  private async resumeRollback(git: UpgradeGit, row: UpgradeEntity): Promise<Outcome> {
    return this.rollback(git, row);
  }

  /** Post-apply health check in the repository; red rolls back. */
  private async healthCheck(git: UpgradeGit, row: UpgradeEntity): Promise<Outcome> {
    const cmd = this.queue.cfg.healthCommand;
    await this.update(row.id, { phase: 'health_check' });
    if (!cmd) return { kind: 'applied' };
    const res = await runCommand(cmd, { cwd: this.queue.cfg.repoPath!, timeoutMs: this.queue.cfg.healthTimeoutMs, limitBytes: this.queue.cfg.outputLimitBytes });
    const output = res.timedOut ? `${res.output}\n[health check timed out after ${this.queue.cfg.healthTimeoutMs} ms]` : res.output;
    if (res.exitCode === 0) {
      await this.update(row.id, { healthOutput: output });
      return { kind: 'applied' };
    }
    await this.update(row.id, { phase: 'rolling_back', healthOutput: output, exitCode: res.exitCode });
    return this.rollback(git, row);
  }

  private async rollback(git: UpgradeGit, row: UpgradeEntity): Promise<Outcome> {
    const target = this.queue.cfg.targetBranch;
    const head = await git.branchHead(target);
    if (row.previousHead && head === row.previousHead) return { kind: 'rolled_back' };
    if (row.mergeCommit && row.previousHead && head === row.mergeCommit && (await git.resetTo(target, row.mergeCommit, row.previousHead))) {
      return { kind: 'rolled_back' };
    }
    return { kind: 'failed', reason: 'git_error', message: `Health check failed but ${target} moved on (${head?.slice(0, 12)}); not rolled back automatically` };
  }

  /** Writes the final state and its event (plus, on failure, a message to the proposing agent). */
  private async finishRun(row: UpgradeEntity, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'requeued') return;
    const fresh = await this.dataSource.getRepository(UpgradeEntity).findOneOrFail({ where: { id: row.id } });
    const now = nowIso();
    const ref = { upgradeId: row.id, title: row.title };
    const durationMs = fresh.testStartedAt ? Date.now() - Date.parse(fresh.testStartedAt) : 0;
    const state: UpgradeState = outcome.kind === 'applied' ? 'applied' : outcome.kind === 'rolled_back' ? 'rolled_back' : 'failed';
    const patch: Partial<UpgradeEntity> = { state, phase: null, claimedBy: null, leaseUntilMs: null, finishedAt: now };
    if (outcome.kind === 'failed') {
      Object.assign(patch, { failureReason: outcome.reason, failureMessage: outcome.message, exitCode: outcome.exitCode ?? fresh.exitCode, conflicts: JSON.stringify(outcome.conflicts ?? []) });
    }
    await this.events.write(async (tx) => {
      const res = await tx.manager.update(UpgradeEntity, { id: row.id, state: 'testing', claimedBy: this.instanceId }, { ...patch, updatedAt: now });
      if (!res.affected) throw new LostClaimError(row.id);
      const agentId = row.proposedByAgentId;
      if (outcome.kind === 'applied') {
        tx.append({
          type: 'upgrade.applied',
          source: 'upgrade-queue',
          agentId,
          data: { ...ref, previousHead: fresh.previousHead ?? '', newHead: fresh.mergeCommit ?? '', attempt: fresh.attempt, durationMs, healthExitCode: this.queue.cfg.healthCommand ? 0 : null },
        });
        await this.queue.tellAgent(tx, systemActor, fresh, `Your upgrade "${row.title}" was applied to ${fresh.targetBranch} at ${fresh.mergeCommit?.slice(0, 12)}`);
      } else if (outcome.kind === 'rolled_back') {
        tx.append({
          type: 'upgrade.rolled_back',
          source: 'upgrade-queue',
          agentId,
          data: { ...ref, from: fresh.mergeCommit ?? '', to: fresh.previousHead ?? '', healthExitCode: fresh.exitCode, output: fresh.healthOutput.slice(-2000) },
        });
        await this.queue.tellAgent(tx, systemActor, fresh, `Your upgrade "${row.title}" was rolled back: the health check failed after apply`);
      } else {
        tx.append({
          type: 'upgrade.failed',
          source: 'upgrade-queue',
          agentId,
          data: { ...ref, reason: outcome.reason, message: outcome.message, exitCode: outcome.exitCode ?? null, conflicts: outcome.conflicts ?? [], attempt: fresh.attempt, from: 'testing' },
        });
        await this.queue.tellAgent(tx, systemActor, fresh, `Your upgrade "${row.title}" failed (${outcome.reason}): ${outcome.message}`);
      }
    });
  }

  /** Runs a command in the worktree, streaming coalesced output events and keeping the (bounded) text on the row. */
  private async runStreamed(row: UpgradeEntity, attempt: number, command: string, cwd: string, timeoutMs: number) {
    let pending = '';
    let all = '';
    let offset = 0;
    let truncated = false;
    let chain: Promise<void> = Promise.resolve();
    const flush = () => {
      if (!pending) return chain;
      const chunk = pending;
      const at = offset;
      pending = '';
      offset += Buffer.byteLength(chunk);
      const text = all;
      const trunc = truncated;
      chain = chain.then(() =>
        this.update(row.id, { testOutput: text, testOutputTruncated: trunc }, (tx) =>
          tx.append({ type: 'upgrade.test_output', source: 'upgrade-queue', agentId: row.proposedByAgentId, data: { upgradeId: row.id, attempt, offset: at, chunk, truncated: trunc } }),
        ).catch((err: Error) => this.logger.warn(`output flush: ${err.message}`)),
      );
      return chain;
    };
    const timer = setInterval(() => void flush(), OUTPUT_FLUSH_MS);
    try {
      const res = await runCommand(command, {
        cwd,
        timeoutMs,
        limitBytes: this.queue.cfg.outputLimitBytes,
        env: { UPGRADE_ID: row.id, UPGRADE_ATTEMPT: String(attempt) },
        onSpawn: (pid) => {
          try {
            writeFileSync(this.lanePidFile(), String(pid));
          } catch {
            /* best effort: only used to end an orphan after a crash */
          }
        },
        onChunk: (c) => {
          pending += c;
          all += c;
          if (c.includes('[output truncated at')) truncated = true;
        },
      });
      truncated = res.truncated;
      rmSync(this.lanePidFile(), { force: true });
      return res;
    } finally {
      clearInterval(timer);
      await flush();
    }
  }

  /** Fault injection for the restart tests (UPGRADE_FAULT_POINT / UPGRADE_FAULT_DELAY_MS): a pause to be killed in. */
  private async fault(point: 'before_ff' | 'after_ff'): Promise<void> {
    const cfg = this.queue.cfg;
    if (cfg.faultPoint !== point || cfg.faultDelayMs <= 0) return;
    this.logger.warn(`fault injection: pausing ${cfg.faultDelayMs} ms at ${point}`);
    await new Promise((r) => setTimeout(r, cfg.faultDelayMs));
  }

  /** Rows this runner left in `testing` without a lease (tests: 0 after a clean run). */
  async countTesting(): Promise<number> {
    return this.dataSource.getRepository(UpgradeEntity).count({ where: { state: In(['testing']) } });
  }
}

const systemActor = { agentId: null, username: null, role: 'admin' as const, label: 'system' };
