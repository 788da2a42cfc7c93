import { Worker } from 'node:worker_threads';

/**
 * How often (ms) the checkpointer thread runs `PRAGMA wal_checkpoint(PASSIVE)` on a SQLite file (SQLITE_CHECKPOINT_MS,
 * default 200; 0 = no thread, SQLite's own auto-checkpoint at 1,000 pages on the committing connection as before).
 */
export const WAL_CHECKPOINT_INTERVAL_MS = Number(process.env.SQLITE_CHECKPOINT_MS ?? 200);

/**
 * `wal_autocheckpoint` of the app's connection while the thread runs (pages): a safety net only (64 MB of WAL at 4 kB
 * pages), reached if the thread cannot keep up or has died.
 */
export const WAL_AUTOCHECKPOINT_PAGES_WITH_THREAD = 16_384;

const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.lib);
const db = new Database(workerData.path, { fileMustExist: true });
let stopped = false;
let reported = false;
const tick = () => {
  if (stopped) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    // SQLITE_BUSY etc.: the next tick tries again; the first failure is reported once
    if (!reported) parentPort.postMessage({ error: String(err && err.message) });
    reported = true;
  }
  timer = setTimeout(tick, workerData.intervalMs);
};
let timer = setTimeout(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  stopped = true;
  clearTimeout(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  parentPort.close();
});
`;

/**
 * Runs SQLite WAL checkpoints on a second connection in a worker thread, so the checkpoint's page copy and fsyncs
 * (10-30 ms on the shared developer box) never run on the event loop inside some unlucky writer's COMMIT, which is
 * where SQLite's auto-checkpoint puts them. PASSIVE checkpoints never wait for or block readers and writers (WAL
 * mode), so the app's connection keeps committing meanwhile; the WAL is reset by the next writer once it is fully
 * checkpointed. Only for a file database (not `:memory:`), one thread per data source.
 */
export class WalCheckpointer {
  private constructor(
    private readonly worker: Worker,
    readonly intervalMs: number,
  ) {}

  /**
   * Starts the thread on `path` (an existing WAL-mode SQLite file). `onError` gets the first checkpoint failure and
   * a thread crash (the app's connection then falls back to its own auto-checkpoint). Returns null when
   * `intervalMs` <= 0.
   */
  static start(path: string, intervalMs = WAL_CHECKPOINT_INTERVAL_MS, onError: (msg: string) => void = () => undefined): WalCheckpointer | null {
    if (!(intervalMs > 0)) return null;
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { lib: require.resolve('better-sqlite3'), path, intervalMs } });
    worker.on('message', (m: { error?: string }) => m.error && onError(`WAL checkpoint failed: ${m.error}`));
    worker.on('error', (err) => onError(`WAL checkpointer thread died: ${err.message}`));
    worker.unref();
    return new WalCheckpointer(worker, intervalMs);
  }

  /** Asks the thread for a last checkpoint and to close its connection; resolves when it has exited (at most 2 s). */
  async stop(): Promise<void> {
    // referenced again while stopping: an unreferenced thread would let the process exit in the middle of a shutdown
    // that awaits it (with nothing else pending, e.g. at the end of a CLI or bench run)
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)));
    await Promise.race([exited, timeout]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
