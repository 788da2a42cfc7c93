/**
 * `pnpm events:verify [--from N] [--to N]`: recomputes the event log's hash chain (ADR 0009) against the database
 * the server is configured for (DATABASE_URL, else SQLITE_PATH; see .env.example) and prints one JSON line
 * (ChainVerification). Exit code 0 when the range verifies, 1 on a break, 2 on bad arguments or no database.
 */
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/app-config';
import { buildDataSourceOptions, initializeDataSource } from '../database/data-source';
import { EventChainVerifier } from '../event-log/hash-chain/event-chain.verifier';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } }, allowPositionals: false });
  const num = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^[1-9][0-9]{0,15}$/.test(v)) throw new Error(`--${name} must be a positive integer, got "${v}"`);
    return Number(v);
  };
  const from = num(values.from, 'from');
  const to = num(values.to, 'to');
  const ds = await initializeDataSource(buildDataSourceOptions(loadConfig()));
  try {
    const result = await new EventChainVerifier(ds).verify(from, to);
    process.stdout.write(JSON.stringify(result) + '\n');
    return result.ok ? 0 : 1;
  } finally {
    await ds.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`events:verify: ${(err as Error).message}\n`);
    process.exit(2);
  },
);
