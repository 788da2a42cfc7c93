import { spawn } from 'node:child_process';

/** Outcome of {@link runCommand}. */
export interface RunResult {
  /** Exit code, or null when the process was ended by a signal. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Captured stdout (UTF-8), at most `maxStdoutBytes` bytes. */
  stdout: string;
  /** True when stdout was longer than the cap and cut. */
  stdoutTruncated: boolean;
  /** The last `stderrTailBytes` bytes of stderr. */
  stderrTail: string;
  /** True when the command was killed because it ran past `timeoutMs`. */
  timedOut: boolean;
  /** Wall time in ms. */
  durationMs: number;
  /** Set when the command could not be started at all. */
  spawnError?: string;
}

/** Options of {@link runCommand}. */
export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. */
  stdin?: string;
  /** Extra environment variables (merged over `process.env` minus `dropEnv`). */
  env?: Record<string, string>;
  /** Environment variables never passed to the command (e.g. the agent's API key). */
  dropEnv?: string[];
  /** Kill the command (its whole process group) after this many ms (default 120,000). */
  timeoutMs?: number;
  /** Stdout cap in bytes (default 65,536). */
  maxStdoutBytes?: number;
  /** Stderr tail size in bytes (default 2,048). */
  stderrTailBytes?: number;
  /** Receives the child's pid once started (so a caller can kill it on shutdown with {@link killGroup}). */
  onSpawn?: (pid: number) => void;
}

/**
 * Runs a shell command (`spawn(command, { shell: true })`) in its own process group, feeding `stdin`,
 * capturing stdout up to a cap and the tail of stderr. Never rejects: failures are reported in the result
 * (`spawnError`, `timedOut`, non-zero `exitCode`). On timeout the process group gets SIGTERM, then SIGKILL 2 s later.
 */
export function runCommand(command: string, opts: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const maxOut = opts.maxStdoutBytes ?? 65_536;
  const tailBytes = opts.stderrTailBytes ?? 2048;
  const env: NodeJS.ProcessEnv = { ...process.env, ...(opts.env ?? {}) };
  for (const k of opts.dropEnv ?? []) delete env[k];
  return new Promise<RunResult>((resolve) => {
    const out: Buffer[] = [];
    let outBytes = 0;
    let truncated = false;
    let errTail = Buffer.alloc(0);
    let timedOut = false;
    let spawnError: string | undefined;
    let done = false;
    let killTimer: NodeJS.Timeout | null = null;

    const child = spawn(command, { shell: true, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    if (child.pid) opts.onSpawn?.(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), 2000);
    }, opts.timeoutMs ?? 120_000);

    child.stdout.on('data', (chunk: Buffer) => {
      if (outBytes >= maxOut) {
        truncated = true;
        return;
      }
      const room = maxOut - outBytes;
      if (chunk.length > room) {
        truncated = true;
        chunk = chunk.subarray(0, room);
      }
      out.push(chunk);
      outBytes += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      errTail = Buffer.concat([errTail, chunk]);
      if (errTail.length > tailBytes) errTail = errTail.subarray(errTail.length - tailBytes);
    });
    // A command that never reads stdin closes the pipe early: ignore EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.stdin ?? '');

    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (killTimer) clearTimeout(killTimer);
      resolve({
        exitCode,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stdoutTruncated: truncated,
        stderrTail: errTail.toString('utf8'),
        timedOut,
        durationMs: Date.now() - started,
        ...(spawnError ? { spawnError } : {}),
      });
    };
    child.on('error', (err) => {
      spawnError = err.message;
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

/** Sends `signal` to the process group led by `pid` (started by {@link runCommand}); ignores already-gone groups. */
export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** One-line failure reason for a finished command: `exit code N: <stderr tail>` (tail cut to `maxChars`). */
export function failureReason(r: RunResult, timeoutMs: number, maxChars = 500): string {
  const tail = r.stderrTail.trim().replace(/\s+/g, ' ');
  const cut = tail.length > maxChars ? `...${tail.slice(tail.length - maxChars)}` : tail;
  if (r.spawnError) return `could not start command: ${r.spawnError}`;
  if (r.timedOut) return `timed out after ${timeoutMs} ms${cut ? `: ${cut}` : ''}`;
  const what = r.exitCode === null ? `killed by ${r.signal ?? 'signal'}` : `exit code ${r.exitCode}`;
  return cut ? `${what}: ${cut}` : what;
}
