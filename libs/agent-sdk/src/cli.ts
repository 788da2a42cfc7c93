#!/usr/bin/env node
import type { TaskDto } from '@app/contracts';
import { AgentClient } from './client';
import { USAGE, matchesKeywords, parseCliArgs, type CliOptions } from './cli-args';
import { resolveAgentKey } from './enroll';
import { failureReason, killGroup, runCommand } from './exec';
import { AgentSdkError, displayUrl } from './rest';
import { PROPOSE_USAGE, parseProposeArgs, runProposeUpgrade } from './upgrade-cli';
import { MEMORY_COMMANDS, runMemoryCommand, type MemoryCommand } from './memory-cli';
import { LEDGER_COMMANDS, LEDGER_USAGE, parseLedgerArgs, runLedgerCommand, type LedgerCommand } from './ledger-cli';

/** Environment variables that hold secrets and are never passed to the task command. */
const SECRET_ENV = ['MC_API_KEY'];

/** Replaces every occurrence of the given secrets, and anything shaped like an API key (`mck_...`), with `***`. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 8) out = out.split(s).join('***');
  return out.replace(/mck_[A-Za-z0-9_-]{8,}/g, '***');
}

function describeError(err: unknown): string {
  if (err instanceof AgentSdkError) return `${err.code} (${err.statusCode}): ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs one agent until SIGINT/SIGTERM: joins, bids `bidSats` on matching offers while below `maxConcurrent`,
 * runs `exec` for each assigned task and completes/fails it. Logs one line per action to stderr (never the key).
 * @returns the process exit code (0 after a clean stop).
 */
export async function runAgent(o: CliOptions): Promise<number> {
  let label = o.name ?? 'agent';
  // every line goes through redactSecrets: a key never reaches the terminal, whatever a message quotes
  const secrets = [o.key];
  const log = (msg: string) => process.stderr.write(redactSecrets(`${new Date().toISOString()} [${label}] ${msg}\n`, secrets));
  log(`connecting to ${displayUrl(o.url)}`);

  let resolved;
  try {
    resolved = await resolveAgentKey(o.url, o.key, o.name, o.capabilities);
  } catch (err) {
    log(`cannot get an agent key from ${displayUrl(o.url)}: ${describeError(err)}`);
    return 1;
  }
  secrets.push(resolved.key);
  if (!o.name) label = resolved.agentId;
  if (resolved.how === 'enrolled') log(`enrolled agent ${resolved.agentId}`);
  if (resolved.how === 'reissued') log(`name taken: issued a fresh key for existing agent ${resolved.agentId}`);
  if (resolved.how === 'given' && o.name) log(`--name ignored: the key is already bound to agent ${resolved.agentId}`);

  const client = new AgentClient({
    baseUrl: o.url,
    apiKey: resolved.key,
    heartbeatIntervalMs: o.heartbeatMs,
    onError: (err, context) => log(`error (${context}): ${describeError(err)}`),
    onLog: (line) => log(line),
  });

  let stopping = false;
  const running = new Map<string, { pid: number | null; done: Promise<void> }>();
  const queue: TaskDto[] = [];

  const runTask = async (task: TaskDto): Promise<void> => {
    const id = task.id;
    try {
      await client.start(id);
      log(`started ${id}`);
      await client.toolEvent('tool.called', id, { tool: 'exec', command: o.exec });
      if (stopping) {
        await client.fail(id, 'agent stopped before the command started');
        log(`failed ${id}: agent stopped before the command started`);
        return;
      }
      log(`exec ${id}: ${o.exec}`);
      const r = await runCommand(o.exec, {
        stdin: task.description,
        env: { TASK_DESCRIPTION: task.description, TASK_ID: id },
        dropEnv: SECRET_ENV,
        timeoutMs: o.timeoutMs,
        maxStdoutBytes: 65_536,
        onSpawn: (pid) => {
          const entry = running.get(id);
          if (entry) entry.pid = pid;
        },
      });
      if (r.exitCode === 0 && !r.timedOut) {
        await client.toolEvent('tool.completed', id, {
          tool: 'exec',
          exitCode: 0,
          durationMs: r.durationMs,
          stdoutBytes: Buffer.byteLength(r.stdout),
          truncated: r.stdoutTruncated,
        });
        await client.complete(id, r.stdout.trim());
        log(`completed ${id} (exit 0, ${r.durationMs} ms, ${Buffer.byteLength(r.stdout)} bytes${r.stdoutTruncated ? ', truncated' : ''})`);
        return;
      }
      const reason = stopping ? 'agent stopped before the command finished' : failureReason(r, o.timeoutMs);
      await client.toolEvent('tool.failed', id, {
        tool: 'exec',
        exitCode: r.exitCode,
        signal: r.signal,
        timedOut: r.timedOut,
        durationMs: r.durationMs,
        error: reason,
      });
      await client.fail(id, reason);
      log(`failed ${id}: ${reason}`);
    } catch (err) {
      log(`task ${id}: ${describeError(err)}`);
    }
  };

  const launch = (task: TaskDto) => {
    const entry = { pid: null as number | null, done: Promise.resolve() };
    running.set(task.id, entry);
    entry.done = runTask(task).finally(() => {
      running.delete(task.id);
      const next = queue.shift();
      if (next && !stopping) launch(next);
    });
  };

  client.onTaskOffer(async (offer) => {
    if (stopping) return;
    if (!matchesKeywords(offer.description, o.keywords)) {
      log(`offer ${offer.taskId}: no keyword match; not bidding`);
      return;
    }
    if (running.size + queue.length >= o.maxConcurrent) {
      log(`offer ${offer.taskId}: busy (${running.size}/${o.maxConcurrent}); not bidding`);
      return;
    }
    try {
      await client.bid(offer.taskId, o.bidSats);
      log(`bid ${o.bidSats} sats on ${offer.taskId}`);
    } catch (err) {
      log(`bid on ${offer.taskId} refused: ${describeError(err)}`);
    }
  });

  client.onAssigned((task) => {
    if (stopping) return;
    log(`assigned ${task.id}`);
    if (running.size >= o.maxConcurrent) queue.push(task);
    else launch(task);
  });

  try {
    const agent = await client.join(o.capabilities.length ? { capabilities: o.capabilities } : {});
    log(`joined as ${agent.id} (${agent.name}); bidding ${o.bidSats} sats${o.keywords.length ? ` on offers matching ${o.keywords.join(',')}` : ''}`);
  } catch (err) {
    log(`join failed: ${describeError(err)}`);
    client.close();
    return 1;
  }

  return new Promise<number>((resolve) => {
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping`);
      for (const entry of running.values()) killGroup(entry.pid ?? undefined, 'SIGTERM');
      const inFlight = [...running.values()].map((e) => e.done);
      await Promise.race([Promise.allSettled(inFlight), new Promise((r) => setTimeout(r, 5000))]);
      for (const task of queue.splice(0)) {
        await client.fail(task.id, 'agent stopped before the task started').catch((err) => log(`fail ${task.id}: ${describeError(err)}`));
      }
      try {
        await client.leave();
        log('left the swarm');
      } catch (err) {
        log(`leave failed: ${describeError(err)}`);
      }
      client.close();
      resolve(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

/** CLI entry: parses argv, prints usage on --help (exit 0) or bad arguments (exit 2), else runs the agent. */
export async function main(argv: string[]): Promise<number> {
  const args = argv[0] === '--' ? argv.slice(1) : argv;
  if ((LEDGER_COMMANDS as readonly string[]).includes(args[0])) {
    const cmd = args[0] as LedgerCommand;
    const p = parseLedgerArgs(cmd, args.slice(1));
    if (p.kind === 'help') {
      process.stdout.write(LEDGER_USAGE);
      return 0;
    }
    if (p.kind === 'error') {
      process.stderr.write(`${redactSecrets(`error: ${p.message}`)}\n\n${LEDGER_USAGE}`);
      return 2;
    }
    try {
      return await runLedgerCommand(cmd, p.options);
    } catch (err) {
      process.stderr.write(redactSecrets(`error: ${describeError(err)}\n`, [p.options.key]));
      return 1;
    }
  }
  if ((MEMORY_COMMANDS as readonly string[]).includes(args[0])) {
    try {
      return await runMemoryCommand(args[0] as MemoryCommand, args.slice(1));
    } catch (err) {
      process.stderr.write(redactSecrets(`error: ${describeError(err)}\n`));
      return 1;
    }
  }
  if (args[0] === 'propose-upgrade') {
    const p = parseProposeArgs(args.slice(1));
    if (p.kind === 'help') {
      process.stdout.write(PROPOSE_USAGE);
      return 0;
    }
    if (p.kind === 'error') {
      process.stderr.write(`${redactSecrets(`error: ${p.message}`)}\n\n${PROPOSE_USAGE}`);
      return 2;
    }
    try {
      return await runProposeUpgrade(p.options);
    } catch (err) {
      process.stderr.write(redactSecrets(`error: ${describeError(err)}\n`));
      return 1;
    }
  }
  const parsed = parseCliArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.kind === 'error') {
    process.stderr.write(`${redactSecrets(`error: ${parsed.message}`)}\n\n${USAGE}`);
    return 2;
  }
  return runAgent(parsed.options);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      process.stderr.write(`fatal: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}
