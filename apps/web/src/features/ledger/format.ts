import type { LedgerAccountDto, LedgerBalancesDto, LedgerTransactionDto } from '@app/contracts';

/** 1 sat = 1000 msat: the API speaks msat, the page shows sats. */
export const MSAT_PER_SAT = 1000;

/**
 * The fee limit the pay dialog proposes: the server's default rule (max of LEDGER_DEFAULT_MAX_FEE_MSAT, 10 sats by
 * default, and 1 % of the amount). The dialog always sends the limit it showed, so the server's setting never
 * silently differs from what the operator confirmed.
 */
export const DEFAULT_MIN_FEE_LIMIT_MSAT = 10_000;

/**
 * An msat amount as sats text with thousands separators: `12,345 sats`, or `1.5 sats` with up to three decimals
 * when the amount is not whole sats; `–` for a missing or non-finite amount.
 */
export function formatSats(msat: number | null | undefined, { unit = true, signed = false }: { unit?: boolean; signed?: boolean } = {}): string {
  if (msat === null || msat === undefined || !Number.isFinite(msat)) return '–';
  const neg = msat < 0;
  const abs = Math.abs(Math.trunc(msat));
  const whole = Math.floor(abs / MSAT_PER_SAT);
  const rest = abs % MSAT_PER_SAT;
  const frac = rest === 0 ? '' : `.${String(rest).padStart(3, '0').replace(/0+$/, '')}`;
  const sign = neg ? '−' : signed && abs > 0 ? '+' : '';
  return `${sign}${whole.toLocaleString('en-US')}${frac}${unit ? ' sats' : ''}`;
}

/** msat -> sats as a number (for charts). */
export const msatToSats = (msat: number) => msat / MSAT_PER_SAT;

/**
 * A sats amount typed by the operator -> integer msat. Accepts `1,000`, `21`, `0.5` (up to 3 decimals);
 * null for blank, negative, zero, malformed or unsafe input.
 */
export function parseSatsToMsat(input: string): number | null {
  const s = input.replace(/[,_\s]/g, '');
  if (!/^\d+(\.\d{1,3})?$/.test(s)) return null;
  const [whole, frac = ''] = s.split('.');
  const msat = Number(whole) * MSAT_PER_SAT + Number(frac.padEnd(3, '0'));
  return Number.isSafeInteger(msat) && msat > 0 ? msat : null;
}

/** The fee limit proposed for an amount (msat): max(10 sats, 1 % rounded up). */
export const defaultFeeLimitMsat = (amountMsat: number) => Math.max(DEFAULT_MIN_FEE_LIMIT_MSAT, Math.ceil(amountMsat / 100));

/** The signed effect of a settled transaction on the node's balance, msat (incoming +amount, outgoing −amount−fee). */
export function netEffectMsat(t: Pick<LedgerTransactionDto, 'type' | 'status' | 'amountMsat' | 'feeMsat'>): number {
  if (t.status !== 'settled') return 0;
  return t.type === 'incoming' ? t.amountMsat : -(t.amountMsat + t.feeMsat);
}

/** One point of the balance-over-time chart. */
export interface BalancePoint {
  /** Epoch ms. */
  t: number;
  /** The node's settled balance after this transaction, in sats. */
  sats: number;
  /** How many settled transactions the point stands for. */
  n: number;
}

/**
 * The node's settled balance over time from its settled transactions (any order, newest first from the API): a point
 * per settlement, cumulated oldest first. When `currentNetMsat` is given the series is anchored to it (the last
 * point equals the current balance even when older transactions are beyond the page read), else it starts at 0.
 */
export function balanceSeries(transactions: readonly LedgerTransactionDto[], currentNetMsat?: number): BalancePoint[] {
  const settled = transactions
    .filter((t) => t.status === 'settled')
    .map((t) => ({ at: Date.parse(t.settledAt ?? t.createdAt), delta: netEffectMsat(t) }))
    .filter((x) => Number.isFinite(x.at))
    .sort((a, b) => a.at - b.at);
  const total = settled.reduce((s, x) => s + x.delta, 0);
  let running = currentNetMsat === undefined ? 0 : currentNetMsat - total;
  const points: BalancePoint[] = [];
  if (settled.length > 0) points.push({ t: settled[0].at - 1, sats: msatToSats(running), n: 0 });
  for (const x of settled) {
    running += x.delta;
    const last = points[points.length - 1];
    if (last && last.t === x.at) {
      last.sats = msatToSats(running);
      last.n += 1;
    } else points.push({ t: x.at, sats: msatToSats(running), n: 1 });
  }
  return points;
}

/** One row of the per-agent earnings panel. */
export interface AgentEarning {
  agentId: string;
  /** Everything ever credited (posted), msat: what the agent earned. */
  earnedMsat: number;
  /** Spendable now, msat. */
  availableMsat: number;
  /** Credits still pending (payouts held for running tasks), msat. */
  pendingMsat: number;
}

/** Agent accounts as earnings, highest earner first (ties by id). */
export function agentEarnings(accounts: readonly LedgerAccountDto[]): AgentEarning[] {
  return accounts
    .filter((a) => a.kind === 'agent')
    .map((a) => ({ agentId: a.agentId ?? a.id.replace(/^agent:/, ''), earnedMsat: a.creditsPostedMsat, availableMsat: a.availableMsat, pendingMsat: a.creditsPendingMsat }))
    .sort((a, b) => b.earnedMsat - a.earnedMsat || a.agentId.localeCompare(b.agentId));
}

/** The four balance cards: the node's ADR-018 balance (available, pending in, pending out, fees paid). */
export interface BalanceCard {
  key: 'available' | 'pendingIn' | 'pendingOut' | 'fees';
  label: string;
  msat: number;
  hint: string;
  /** True when the card shows money that is not final yet (a pending badge). */
  pending: boolean;
}

/** The cards of a balances response. */
export function balanceCards(b: LedgerBalancesDto): BalanceCard[] {
  const n = b.node;
  return [
    { key: 'available', label: 'Available', msat: n.availableMsat, hint: `net ${formatSats(n.netMsat)} · treasury ${formatSats(b.treasury.availableMsat)}`, pending: false },
    { key: 'pendingIn', label: 'Pending in', msat: n.pendingIncomingMsat, hint: 'open invoices', pending: n.pendingIncomingMsat > 0 },
    { key: 'pendingOut', label: 'Pending out', msat: n.pendingOutgoingMsat, hint: 'payments in flight (amount + fee limit)', pending: n.pendingOutgoingMsat > 0 },
    { key: 'fees', label: 'Fees', msat: n.feesMsat, hint: 'routing fees paid', pending: false },
  ];
}

/** `in` / `out` arrow and word for a transaction type. */
export const directionLabel = (t: Pick<LedgerTransactionDto, 'type'>) => (t.type === 'incoming' ? '↓ in' : '↑ out');

/** Seconds until an ISO time, as `in 59m` / `expired` ('' without a time). */
export function expiresIn(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '';
  const ms = Date.parse(iso) - now;
  if (!Number.isFinite(ms)) return '';
  if (ms <= 0) return 'expired';
  const m = Math.floor(ms / 60_000);
  if (m < 1) return `in ${Math.ceil(ms / 1000)}s`;
  if (m < 120) return `in ${m}m`;
  const h = Math.floor(m / 60);
  return h < 48 ? `in ${h}h ${m % 60}m` : `in ${Math.floor(h / 24)}d`;
}

/**
 * A time-axis tick label for a chart spanning `spanMs`: `HH:MM:SS` under an hour, `HH:MM` under two days, else
 * `MM-DD HH:MM` (local time).
 */
export function timeTick(spanMs: number): (t: number) => string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (t: number) => {
    const d = new Date(t);
    if (Number.isNaN(d.getTime())) return '';
    const hm = `${p(d.getHours())}:${p(d.getMinutes())}`;
    if (spanMs < 3_600_000) return `${hm}:${p(d.getSeconds())}`;
    if (spanMs < 2 * 86_400_000) return hm;
    return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${hm}`;
  };
}
