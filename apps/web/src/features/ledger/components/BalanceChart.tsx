import '../ledger.css';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LedgerTransactionDto } from '@app/contracts';
import { formatDateTime } from '../../../lib/time';
import { balanceSeries, timeTick } from '../format';

const LINE = '#39c5bb';
const AXIS = '#8397ab';
const GRID = '#243446';
const TOOLTIP_STYLE = { background: '#131d28', border: '1px solid #243446' };

type BalanceChartProps = {
  /** Settled transactions (any order). */
  transactions: readonly LedgerTransactionDto[] | undefined;
  /** The node's current settled net (msat): the series ends there. */
  currentNetMsat: number | undefined;
};

const when = (t: number) => formatDateTime(new Date(t).toISOString());

/** The node's settled balance over time (sats, a step per settlement), on a time axis. */
export function BalanceChart({ transactions, currentNetMsat }: BalanceChartProps) {
  const points = balanceSeries(transactions ?? [], currentNetMsat);
  const last = points[points.length - 1];
  if (points.length === 0) return <p className="muted small" data-testid="ledger-chart-empty">No settled payments yet: the balance appears here after the first one.</p>;
  const tick = timeTick(last.t - points[0].t);
  return (
    <div className="ledger-chart" data-testid="ledger-chart" data-points={points.length} data-last-sats={last.sats}>
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={points} margin={{ top: 8, right: 16, bottom: 4, left: 4 }}>
          <CartesianGrid stroke={GRID} strokeDasharray="3 3" />
          <XAxis
            dataKey="t"
            type="number"
            scale="time"
            domain={['dataMin', 'dataMax']}
            tickFormatter={tick}
            stroke={AXIS}
            fontSize={11}
            minTickGap={24}
            padding={{ left: 12, right: 12 }}
          />
          <YAxis stroke={AXIS} fontSize={11} width={80} tickFormatter={(v: number) => v.toLocaleString('en-US')} />
          <Tooltip contentStyle={TOOLTIP_STYLE} labelFormatter={(t) => when(Number(t))} formatter={(v) => [`${Number(v).toLocaleString('en-US')} sats`, 'balance']} />
          <Line type="stepAfter" dataKey="sats" name="balance" stroke={LINE} dot={{ r: 3 }} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
