import { failureReason, runCommand } from './exec';

describe('runCommand', () => {
  it('feeds stdin, passes env, captures stdout and drops secret env vars', async () => {
    const r = await runCommand('tr a-z A-Z; printf "|%s|%s|%s" "$TASK_ID" "$TASK_DESCRIPTION" "${MC_API_KEY:-none}"', {
      stdin: 'hello world',
      env: { TASK_ID: 't1', TASK_DESCRIPTION: 'desc here', MC_API_KEY: 'mck_secret' },
      dropEnv: ['MC_API_KEY'],
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('HELLO WORLD|t1|desc here|none');
    expect(r.timedOut).toBe(false);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('caps stdout at maxStdoutBytes and keeps draining', async () => {
    const r = await runCommand('head -c 200000 /dev/zero | tr "\\0" a', { maxStdoutBytes: 1000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toHaveLength(1000);
    expect(r.stdoutTruncated).toBe(true);
  });

  it('reports a non-zero exit with the stderr tail', async () => {
    const r = await runCommand('echo first >&2; echo "boom happened" >&2; exit 3', { stderrTailBytes: 14 });
    expect(r.exitCode).toBe(3);
    expect(r.stderrTail).toBe('boom happened\n');
    expect(failureReason(r, 1000)).toBe('exit code 3: boom happened');
  });

  it('kills the whole process group on timeout', async () => {
    const started = Date.now();
    const r = await runCommand('sleep 30 & sleep 30; echo never', { timeoutMs: 300 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(failureReason(r, 300)).toMatch(/^timed out after 300 ms/);
  });

  it('does not fail when the command ignores stdin', async () => {
    const r = await runCommand('true', { stdin: 'x'.repeat(1_000_000) });
    expect(r.exitCode).toBe(0);
  });
});
