import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WalCheckpointer } from './wal-checkpointer';

describe(WalCheckpointer.name, () => {
  it('copies committed WAL frames into the database file from its own thread, and stops cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mc-wal-'));
    const path = join(dir, 't.db');
    const db = new Database(path);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('wal_autocheckpoint = 0'); // this connection never checkpoints
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 3000; i++) insert.run('x'.repeat(200));
      })();
      const before = statSync(path).size;
      const errors: string[] = [];
      const sut = WalCheckpointer.start(path, 20, (m) => errors.push(m))!;
      const deadline = Date.now() + 5000;
      while (statSync(path).size <= before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(path).size).toBeGreaterThan(before + 500_000);
      // the writer keeps committing meanwhile
      insert.run('after');
      expect((db.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n).toBe(3001);
      await sut.stop();
      expect(errors).toEqual([]);
      expect(WalCheckpointer.start(path, 0)).toBeNull();
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
