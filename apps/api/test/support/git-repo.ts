import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'test@example.com',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'test@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Runs git in `cwd` and returns trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/**
 * The test suite of the repositories made here: fails (exit 1) when a file `FAIL` exists, printing a line with
 * "passed" in it all the same (the prototype counted that as a pass); sleeps when `SLOW` exists (and on attempt 1 only when `SLOW_FIRST` exists); prints the marker
 * `TESTS-STARTED <UPGRADE_ID>` and touches `$MARKER_DIR/<UPGRADE_ID>.started` when MARKER_DIR is set.
 */
export const TEST_SCRIPT = `#!/bin/sh
echo "TESTS-STARTED $UPGRADE_ID attempt $UPGRADE_ATTEMPT"
if [ -n "$MARKER_DIR" ]; then touch "$MARKER_DIR/$UPGRADE_ID.started"; fi
for i in 1 2 3; do echo "test $i ok"; done
if [ -f SLOW ]; then sleep "$(cat SLOW)"; fi
if [ -f SLOW_FIRST ] && [ "$UPGRADE_ATTEMPT" = "1" ]; then sleep "$(cat SLOW_FIRST)"; fi
if [ -f FAIL ]; then echo "1 failed, 3 passed"; exit 1; fi
echo "4 passed"
`;

export interface TestRepo {
  path: string;
  /** Commits `files` on `branch` (created from `from`, default main) and returns the commit id. */
  commit(branch: string, files: Record<string, string | null>, message?: string, from?: string): string;
  head(branch?: string): string;
  remove(): void;
}

/** A real git repository with `main` checked out: README, src/app.txt, run-tests.sh, .ci/pipeline.txt, `extra` more files. */
export function makeRepo(extraFiles = 0): TestRepo {
  const path = mkdtempSync(join(tmpdir(), 'mc-upgrade-repo-'));
  git(path, 'init', '-q', '-b', 'main');
  const write = (files: Record<string, string | null>) => {
    for (const [name, content] of Object.entries(files)) {
      const p = join(path, name);
      if (content === null) rmSync(p, { force: true });
      else {
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, content);
      }
    }
  };
  const initial: Record<string, string> = {
    'README.md': '# target\n',
    'src/app.txt': 'line 1\nline 2\nline 3\n',
    'run-tests.sh': TEST_SCRIPT,
    '.ci/pipeline.txt': 'steps: test\n',
  };
  for (let i = 0; i < extraFiles; i++) initial[`pkg/d${Math.floor(i / 100)}/f${i}.txt`] = `file ${i}\n`;
  write(initial);
  git(path, 'add', '-A');
  git(path, 'commit', '-q', '-m', 'initial');
  const repo: TestRepo = {
    path,
    commit(branch, files, message = `change on ${branch}`, from = 'main') {
      const current = git(path, 'symbolic-ref', '--short', 'HEAD');
      const exists = (() => {
        try {
          git(path, 'rev-parse', '--verify', '--quiet', `refs/heads/${branch}`);
          return true;
        } catch {
          return false;
        }
      })();
      if (branch !== current) git(path, 'checkout', '-q', ...(exists ? [branch] : ['-b', branch, from]));
      write(files);
      git(path, 'add', '-A');
      git(path, 'commit', '-q', '-m', message);
      const id = git(path, 'rev-parse', 'HEAD');
      if (branch !== current) git(path, 'checkout', '-q', current);
      return id;
    },
    head(branch = 'main') {
      return git(path, 'rev-parse', `refs/heads/${branch}`);
    },
    remove() {
      rmSync(path, { recursive: true, force: true });
    },
  };
  return repo;
}

/** A unified diff of `file` from `before` to `after` (as `git diff` prints it). */
export function unifiedDiff(file: string, before: string | null, after: string | null): string {
  const dir = mkdtempSync(join(tmpdir(), 'mc-diff-'));
  try {
    git(dir, 'init', '-q', '-b', 'main');
    if (before !== null) {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), before);
      git(dir, 'add', '-A');
      git(dir, 'commit', '-q', '-m', 'before');
    } else {
      git(dir, 'commit', '-q', '--allow-empty', '-m', 'before');
    }
    if (after === null) rmSync(join(dir, file));
    else {
      mkdirSync(dirname(join(dir, file)), { recursive: true });
      writeFileSync(join(dir, file), after);
    }
    git(dir, 'add', '-A');
    return execFileSync('git', ['diff', '--cached', '--no-color'], { cwd: dir, env: GIT_ENV, encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
