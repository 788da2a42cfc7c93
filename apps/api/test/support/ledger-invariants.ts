import type { DataSource } from 'typeorm';

/** Totals of one account as stored, and as recomputed from its transfers. */
interface Row {
  id: string;
  noNegative: boolean | number;
  debitsPosted: number;
  creditsPosted: number;
  debitsPending: number;
  creditsPending: number;
}

/**
 * Checks the ledger's invariants straight from the tables (no service code involved) and returns every violation:
 * 1. the sum of all balances (credits posted - debits posted) is 0, and so is the sum of pending;
 * 2. each account's maintained totals equal the sums of its transfers (single + post for posted; unresolved pending);
 * 3. no noNegative account has debits posted + pending above credits posted;
 * 4. no payment_hash has more than one outgoing transaction, and no pending transfer has two resolutions;
 * 5. a settled transaction's hold is posted, a failed/expired one's is voided/expired, a pending one's unresolved;
 * 6. the maintained `ledger_tx_totals` (count and sums per account, type and status) equal a GROUP BY of the
 *    transactions (rows with count 0 and zero sums are allowed: a status every transaction has left).
 */
export async function ledgerViolations(ds: DataSource): Promise<string[]> {
  const out: string[] = [];
  const n = (v: unknown) => Number(v ?? 0);
  const accounts: Row[] = (await ds.query('SELECT * FROM ledger_accounts')).map((r: Row) => ({
    ...r,
    debitsPosted: n(r.debitsPosted),
    creditsPosted: n(r.creditsPosted),
    debitsPending: n(r.debitsPending),
    creditsPending: n(r.creditsPending),
  }));
  const transfers: { id: string; kind: string; debitAccountId: string; creditAccountId: string; amountMsat: unknown; pendingId: string | null }[] =
    await ds.query('SELECT id, kind, "debitAccountId", "creditAccountId", "amountMsat", "pendingId" FROM ledger_transfers');
  const resolved = new Map<string, number>();
  for (const t of transfers) if (t.pendingId) resolved.set(t.pendingId, (resolved.get(t.pendingId) ?? 0) + 1);
  const calc = new Map<string, { dp: number; cp: number; dpe: number; cpe: number }>();
  const get = (id: string) => calc.get(id) ?? (calc.set(id, { dp: 0, cp: 0, dpe: 0, cpe: 0 }), calc.get(id)!);
  for (const t of transfers) {
    const a = n(t.amountMsat);
    if (t.kind === 'single' || t.kind === 'post') {
      get(t.debitAccountId).dp += a;
      get(t.creditAccountId).cp += a;
    } else if (t.kind === 'pending' && !resolved.has(t.id)) {
      get(t.debitAccountId).dpe += a;
      get(t.creditAccountId).cpe += a;
    }
  }
  let sumPosted = 0;
  let sumPending = 0;
  for (const a of accounts) {
    sumPosted += a.creditsPosted - a.debitsPosted;
    sumPending += a.creditsPending - a.debitsPending;
    const c = calc.get(a.id) ?? { dp: 0, cp: 0, dpe: 0, cpe: 0 };
    if (c.dp !== a.debitsPosted || c.cp !== a.creditsPosted || c.dpe !== a.debitsPending || c.cpe !== a.creditsPending) {
      out.push(`account ${a.id}: totals ${JSON.stringify(a)} != transfers ${JSON.stringify(c)}`);
    }
    if (Boolean(Number(a.noNegative)) && a.debitsPosted + a.debitsPending > a.creditsPosted) out.push(`account ${a.id} is negative`);
  }
  if (sumPosted !== 0) out.push(`sum of posted balances is ${sumPosted}`);
  if (sumPending !== 0) out.push(`sum of pending balances is ${sumPending}`);
  for (const [id, count] of resolved) if (count > 1) out.push(`pending transfer ${id} resolved ${count} times`);
  const dup: { paymentHash: string; n: unknown }[] = await ds.query(
    `SELECT "paymentHash", COUNT(*) AS n FROM ledger_transactions WHERE type = 'outgoing' GROUP BY "paymentHash" HAVING COUNT(*) > 1`,
  );
  for (const d of dup) out.push(`payment_hash ${d.paymentHash} has ${n(d.n)} outgoing transactions`);
  const txs: { id: string; status: string; holdTransferId: string | null }[] = await ds.query('SELECT id, status, "holdTransferId" FROM ledger_transactions');
  const byPending = new Map(transfers.filter((t) => t.pendingId).map((t) => [t.pendingId!, t.kind]));
  for (const t of txs) {
    if (!t.holdTransferId) continue;
    const r = byPending.get(t.holdTransferId);
    const want = t.status === 'pending' ? undefined : t.status === 'settled' ? 'post' : t.status === 'failed' ? 'void' : 'expire';
    // an invoice settled after it had expired keeps its expired hold and is credited by a single transfer
    if (r !== want && !(t.status === 'settled' && r === 'expire')) out.push(`transaction ${t.id} is ${t.status} but its hold is ${r ?? 'unresolved'}`);
  }
  const totals: Record<string, unknown>[] = await ds.query('SELECT "accountId", type, status, count, "amountMsat", "feeMsat", "maxFeeMsat" FROM ledger_tx_totals');
  const grouped: Record<string, unknown>[] = await ds.query(
    'SELECT "accountId", type, status, COUNT(*) AS count, SUM("amountMsat") AS "amountMsat", SUM("feeMsat") AS "feeMsat", SUM("maxFeeMsat") AS "maxFeeMsat" FROM ledger_transactions GROUP BY "accountId", type, status',
  );
  const key = (r: Record<string, unknown>) => `${String(r.accountId)}|${String(r.type)}|${String(r.status)}`;
  const sums = (r: Record<string, unknown> | undefined) => [r?.count, r?.amountMsat, r?.feeMsat, r?.maxFeeMsat].map(n).join(',');
  const want = new Map(grouped.map((r) => [key(r), r]));
  const have = new Map(totals.map((r) => [key(r), r]));
  for (const k of new Set([...want.keys(), ...have.keys()])) {
    if (sums(want.get(k)) !== sums(have.get(k))) out.push(`ledger_tx_totals ${k}: ${sums(have.get(k))} != transactions ${sums(want.get(k))}`);
  }
  return out;
}
