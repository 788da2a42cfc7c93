import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import type { UpgradeFileDto } from '@app/contracts';

/** Identity of the commits the queue makes (diff proposals, merge commits), independent of any global git config. */
export const QUEUE_GIT_IDENTITY = {
  GIT_AUTHOR_NAME: 'Mission Control upgrade queue',
  GIT_AUTHOR_EMAIL: 'upgrade-queue@mission-control.local',
  GIT_COMMITTER_NAME: 'Mission Control upgrade queue',
  GIT_COMMITTER_EMAIL: 'upgrade-queue@mission-control.local',
};

/**
 * The environment git runs with: the basics of this process's environment plus the queue's identity. Nothing else
 * is passed on (no inherited GIT_* variables: simple-git's environment guard refuses unsafe ones, and none should
 * change what the queue's git commands do).
 */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...QUEUE_GIT_IDENTITY, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', ...extra };
}

/** GIT_* variables the queue sets on purpose (simple-git's environment guard refuses any other). */
const ALLOWED_GIT_ENV = [...Object.keys(QUEUE_GIT_IDENTITY), 'GIT_TERMINAL_PROMPT', 'GIT_CONFIG_NOSYSTEM', 'GIT_INDEX_FILE'];

/** A simple-git instance for `baseDir` with the queue's environment (`gitEnv(extra)`). */
function gitAt(baseDir: string, extra: Record<string, string> = {}): SimpleGit {
  return simpleGit({
    baseDir,
    maxConcurrentProcesses: 4,
    allowEnvironment: ALLOWED_GIT_ENV,
    // every non-zero exit is an error (simple-git's default needs stderr output too: a conflicting merge prints to
    // stdout only, and `merge-base --is-ancestor` prints nothing)
    errors: (error, result) => error ?? (result.exitCode ? Buffer.concat([...result.stdOut, ...result.stdErr]) : undefined),
  }).env(gitEnv(extra));
}

const SHA_RE = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/** A changed file as git reports it (before protected-path matching). */
export type GitFileChange = Omit<UpgradeFileDto, 'protected'>;

/** Result of merging a proposal into a worktree. */
export type MergeResult = { ok: true; mergeCommit: string } | { ok: false; conflicts: string[]; message: string };

/** Result of running a shell command with a timeout and bounded output. */
export interface CommandResult {
  /** Process exit code; null when killed by a signal (timeout included). */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  output: string;
  truncated: boolean;
  durationMs: number;
}

/** A git failure with git's own message (stderr). */
export class GitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitError';
  }
}

function gitMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.trim().slice(0, 2000);
}

/**
 * Git operations of the upgrade queue on one repository, through simple-git (the git CLI). Never touches the
 * repository's own working tree except in `fastForward`/`resetTo` when the target branch is checked out there.
 */
export class UpgradeGit {
  private readonly git: SimpleGit;

  constructor(readonly repoPath: string) {
    this.git = gitAt(repoPath);
  }

  /** True when `repoPath` is a git repository (working tree or bare). */
  async isRepo(): Promise<boolean> {
    try {
      await this.git.raw(['rev-parse', '--git-dir']);
      return true;
    } catch {
      return false;
    }
  }

  /** True when `name` is a valid branch name (`git check-ref-format --branch`). */
  async isValidBranchName(name: string): Promise<boolean> {
    if (name.startsWith('-')) return false;
    try {
      await this.git.raw(['check-ref-format', '--branch', name]);
      return true;
    } catch {
      return false;
    }
  }

  /** Commit id of `refs/heads/<branch>`, or null when there is no such branch. */
  async branchHead(branch: string): Promise<string | null> {
    return this.resolveCommit(`refs/heads/${branch}`);
  }

  /** Commit id `ref` names, or null. `ref` must not start with `-`. */
  async resolveCommit(ref: string): Promise<string | null> {
    if (ref.startsWith('-')) return null;
    try {
      const out = (await this.git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim();
      return SHA_RE.test(out) ? out : null;
    } catch {
      return null;
    }
  }

  /** Best common ancestor of two commits, or null when they share no history. */
  async mergeBase(a: string, b: string): Promise<string | null> {
    try {
      const out = (await this.git.raw(['merge-base', a, b])).trim();
      return SHA_RE.test(out) ? out : null;
    } catch {
      return null;
    }
  }

  /** True when `ancestor` is an ancestor of (or equal to) `commit`. */
  async isAncestor(ancestor: string, commit: string): Promise<boolean> {
    try {
      await this.git.raw(['merge-base', '--is-ancestor', ancestor, commit]);
      return true;
    } catch {
      return false;
    }
  }

  /** Unified diff base..head (no colour, no external diff driver; binary files as "Binary files ... differ"). */
  async diff(base: string, head: string): Promise<string> {
    return this.git.raw(['diff', '--no-color', '--no-ext-diff', '--no-textconv', '-M', base, head, '--']);
  }

  /** Files changed base..head with line counts (binary: 0/0, `binary: true`). */
  async changedFiles(base: string, head: string): Promise<GitFileChange[]> {
    // two independent git processes: run them at once (propose latency)
    const [numstat, status] = await Promise.all([
      this.git.raw(['diff', '--numstat', '-z', '-M', base, head, '--']),
      this.git.raw(['diff', '--name-status', '-z', '-M', base, head, '--']),
    ]);
    const statusByPath = new Map<string, { status: GitFileChange['status']; oldPath: string | null }>();
    const st = status.split('\0');
    for (let i = 0; i < st.length - 1; ) {
      const code = st[i];
      if (!code) {
        i++;
        continue;
      }
      if (code.startsWith('R') || code.startsWith('C')) {
        statusByPath.set(st[i + 2], { status: code.startsWith('R') ? 'renamed' : 'added', oldPath: st[i + 1] });
        i += 3;
      } else {
        statusByPath.set(st[i + 1], { status: code === 'A' ? 'added' : code === 'D' ? 'deleted' : 'modified', oldPath: null });
        i += 2;
      }
    }
    const files: GitFileChange[] = [];
    const parts = numstat.split('\0');
    for (let i = 0; i < parts.length; ) {
      const rec = parts[i];
      if (!rec) {
        i++;
        continue;
      }
      const [a, r, p] = rec.split('\t');
      let path = p;
      let oldPath: string | null = null;
      if (p === '') {
        // rename/copy: "added\tremoved\t" then old path and new path as separate fields
        oldPath = parts[i + 1];
        path = parts[i + 2];
        i += 3;
      } else {
        i += 1;
      }
      const binary = a === '-' && r === '-';
      const s = statusByPath.get(path);
      files.push({
        path,
        oldPath: oldPath ?? s?.oldPath ?? null,
        status: s?.status ?? (oldPath ? 'renamed' : 'modified'),
        added: binary ? 0 : Number(a),
        removed: binary ? 0 : Number(r),
        binary,
      });
    }
    return files;
  }

  /**
   * Applies a unified diff on top of `base` without touching any working tree (a temporary index) and records the
   * result as a commit whose parent is `base`, kept alive by `keepRef`. Returns the commit id.
   * @throws GitError with git apply's message when the diff is malformed or does not apply to `base`.
   */
  async commitDiff(base: string, diffText: string, message: string, keepRef: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'mc-upgrade-diff-'));
    try {
      const patch = join(dir, 'proposal.diff');
      writeFileSync(patch, diffText.endsWith('\n') ? diffText : `${diffText}\n`);
      const g = gitAt(this.repoPath, { GIT_INDEX_FILE: join(dir, 'index') });
      await g.raw(['read-tree', base]);
      try {
        await g.raw(['apply', '--cached', '--check', '--whitespace=nowarn', patch]);
        await g.raw(['apply', '--cached', '--whitespace=nowarn', patch]);
      } catch (err) {
        throw new GitError(gitMessage(err));
      }
      const tree = (await g.raw(['write-tree'])).trim();
      const commit = (await g.raw(['commit-tree', tree, '-p', base, '-m', message])).trim();
      await this.git.raw(['update-ref', keepRef, commit]);
      return commit;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** Paths of the files at `commit` (sorted as git lists them), at most `limit` of them. */
  async listFiles(commit: string, limit: number): Promise<string[]> {
    const out = await this.git.raw(['ls-tree', '-r', '--name-only', '-z', commit]);
    return out.split('\0').filter(Boolean).slice(0, limit);
  }

  /** Deletes a ref made by `commitDiff` (no error when missing). */
  async deleteRef(ref: string): Promise<void> {
    await this.git.raw(['update-ref', '-d', ref]).catch(() => undefined);
  }

  /** Makes a detached worktree of `commit` at `dir` (which must not exist). */
  async addWorktree(dir: string, commit: string): Promise<void> {
    mkdirSync(join(dir, '..'), { recursive: true });
    await this.git.raw(['worktree', 'add', '--detach', '--force', dir, commit]);
  }

  /**
   * Makes `dir` a clean detached worktree at `commit`, reusing the worktree already there when it is one of this
   * repository's: `git reset --hard` (drops a half-done merge a killed run left), `git checkout --detach --force
   * <commit>` (rewrites only the files that differ), `git clean -ffdx` (drops untracked and ignored files, build
   * output included). A stale `index.lock` of a killed git is removed first. When `dir` is missing, not a worktree,
   * or any step fails, it is removed and made afresh with `git worktree add`. Returns which path it took.
   * Cost on a 10,000-file repository: tens of ms to reuse (only touched files change) versus ~1 s or more to add.
   */
  async prepareWorktree(dir: string, commit: string): Promise<'reused' | 'created'> {
    if (existsSync(join(dir, '.git'))) {
      const wt = gitAt(dir);
      try {
        const gitDir = (await wt.raw(['rev-parse', '--absolute-git-dir'])).trim();
        const common = realpathSync(resolve(dir, (await wt.raw(['rev-parse', '--git-common-dir'])).trim()));
        if (common === (await this.commonDir())) {
          rmSync(join(gitDir, 'index.lock'), { force: true });
          await wt.raw(['reset', '-q', '--hard']);
          await wt.raw(['checkout', '-q', '--detach', '--force', commit]);
          await wt.raw(['clean', '-ffdxq']);
          const at = (await wt.raw(['rev-parse', 'HEAD'])).trim();
          if (at === commit) return 'reused';
        }
      } catch {
        /* fall through: make it afresh */
      }
    }
    await this.removeWorktree(dir);
    await this.addWorktree(dir, commit);
    return 'created';
  }

  /** Commit HEAD of the worktree at `dir` points to, or null. */
  async worktreeHead(dir: string): Promise<string | null> {
    try {
      const out = (await gitAt(dir).raw(['rev-parse', 'HEAD'])).trim();
      return SHA_RE.test(out) ? out : null;
    } catch {
      return null;
    }
  }

  private commonDirCache: string | null = null;

  /** Absolute path of the repository's common git directory (cached). */
  private async commonDir(): Promise<string> {
    if (!this.commonDirCache) this.commonDirCache = realpathSync(resolve(this.repoPath, (await this.git.raw(['rev-parse', '--git-common-dir'])).trim()));
    return this.commonDirCache;
  }

  /** Removes a worktree (and its directory) and prunes stale worktree records; never throws. */
  async removeWorktree(dir: string): Promise<void> {
    await this.git.raw(['worktree', 'remove', '--force', '--force', dir]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    await this.git.raw(['worktree', 'prune']).catch(() => undefined);
  }

  /**
   * Merges `head` into the worktree at `dir` with a merge commit (`--no-ff`). On a conflict the merge is aborted
   * and the conflicting paths are returned.
   */
  async mergeInWorktree(dir: string, head: string, message: string): Promise<MergeResult> {
    const wt = gitAt(dir);
    try {
      await wt.raw(['merge', '--no-ff', '--no-edit', '-m', message, head]);
    } catch (err) {
      const conflicts = (await wt.raw(['diff', '--name-only', '--diff-filter=U']).catch(() => ''))
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      await wt.raw(['merge', '--abort']).catch(() => undefined);
      return { ok: false, conflicts, message: gitMessage(err) };
    }
    const mergeCommit = (await wt.raw(['rev-parse', 'HEAD'])).trim();
    return { ok: true, mergeCommit };
  }

  /** True when `branch` is checked out in the repository's own working tree (non-bare, HEAD -> that branch). */
  async isCheckedOut(branch: string): Promise<boolean> {
    const bare = (await this.git.raw(['rev-parse', '--is-bare-repository'])).trim() === 'true';
    if (bare) return false;
    const head = (await this.git.raw(['symbolic-ref', '-q', 'HEAD']).catch(() => '')).trim();
    return head === `refs/heads/${branch}`;
  }

  /**
   * Moves `branch` from exactly `expected` to `to`, which must be a descendant (fast-forward). Returns false (and
   * changes nothing) when the branch is no longer at `expected`. A checked-out branch is moved with
   * `git merge --ff-only` so its working tree follows; otherwise with a compare-and-swap `update-ref`.
   */
  async fastForward(branch: string, expected: string, to: string): Promise<boolean> {
    if (await this.isCheckedOut(branch)) {
      const head = (await this.git.raw(['rev-parse', 'HEAD'])).trim();
      if (head !== expected) return false;
      await this.git.raw(['merge', '--ff-only', '--no-edit', to]);
      return true;
    }
    return this.compareAndSwap(branch, expected, to);
  }

  /**
   * Moves `branch` back from exactly `expected` to `to` (rollback). Returns false when the branch is no longer at
   * `expected`. A checked-out branch is reset with `git reset --keep` (keeps unrelated local changes).
   */
  async resetTo(branch: string, expected: string, to: string): Promise<boolean> {
    if (await this.isCheckedOut(branch)) {
      const head = (await this.git.raw(['rev-parse', 'HEAD'])).trim();
      if (head !== expected) return false;
      await this.git.raw(['reset', '--keep', to]);
      return true;
    }
    return this.compareAndSwap(branch, expected, to);
  }

  private async compareAndSwap(branch: string, expected: string, to: string): Promise<boolean> {
    try {
      await this.git.raw(['update-ref', '-m', 'upgrade-queue', `refs/heads/${branch}`, to, expected]);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Runs `command` through `/bin/sh -c` in `cwd` in its own process group, killing the whole group at `timeoutMs`.
 * Keeps at most `limitBytes` of interleaved stdout+stderr (then a truncation marker) and hands every kept chunk to
 * `onChunk`. Pass/fail is the caller's reading of `exitCode` (never the text).
 */
export function runCommand(
  command: string,
  opts: { cwd: string; timeoutMs: number; limitBytes: number; env?: NodeJS.ProcessEnv; onChunk?: (chunk: string) => void; onSpawn?: (pid: number) => void },
): Promise<CommandResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: opts.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...opts.env, CI: '1' },
    });
    if (child.pid) opts.onSpawn?.(child.pid);
    let kept = 0;
    let truncated = false;
    const chunks: string[] = [];
    let timedOut = false;
    const onData = (buf: Buffer) => {
      if (truncated) return;
      let text = buf.toString('utf8');
      if (kept + buf.length > opts.limitBytes) {
        text = buf.subarray(0, Math.max(0, opts.limitBytes - kept)).toString('utf8') + `\n[output truncated at ${opts.limitBytes} bytes]\n`;
        truncated = true;
      }
      kept += Buffer.byteLength(text);
      chunks.push(text);
      opts.onChunk?.(text);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutMs);
    child.on('error', (err) => onData(Buffer.from(`\n[spawn failed: ${err.message}]\n`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // stray grandchildren holding no pipes are still in the group: end them too
      killGroup(child.pid);
      resolve({ exitCode: timedOut ? null : code, signal, timedOut, output: chunks.join(''), truncated, durationMs: Date.now() - started });
    });
  });
}

/** SIGKILLs a process group; ignores a group that is already gone. */
export function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
