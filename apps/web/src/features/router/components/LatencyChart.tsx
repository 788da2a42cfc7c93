import type { RouterMetricsDto } from '@app/contracts';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from '../../../lib/time';
import { formatMs, latencyRows } from '../format';

const COLORS = ['#39c5bb', '#6aa8ff', '#e8b84a', '#ef6b6b', '#5bd68a', '#c38bff'];

type LatencyChartProps = { metrics: RouterMetricsDto | undefined };

/** p50 (solid) and p95 (dashed) latency per provider over time, one point per metrics bucket. */
export function LatencyChart({ metrics }: LatencyChartProps) {
  const rows = latencyRows(metrics);
  const names = metrics?.providers.filter((p) => p.series.length > 0).map((p) => p.name) ?? [];
  if (rows.length === 0) return <p className="muted small" data-testid="router-chart-empty">No traffic yet: latency appears here after the first routed requests.</p>;
  return (
    <div className="router-chart" data-testid="router-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 4, left: 4 }}>
          <CartesianGrid stroke="#243446" strokeDasharray="3 3" />
          <XAxis dataKey="t" tickFormatter={(t: string) => formatClock(t)} stroke="#8397ab" fontSize={11} minTickGap={24} />
          <YAxis stroke="#8397ab" fontSize={11} tickFormatter={(v: number) => formatMs(v)} width={70} />
          <Tooltip
            contentStyle={{ background: '#131d28', border: '1px solid #243446' }}
            labelFormatter={(t) => formatClock(String(t))}
            formatter={(v, key) => [formatMs(typeof v === 'number' ? v : null), String(key)]}
          />
          <Legend />
          {names.map((n, i) => (
            <Line key={n} type="monotone" dataKey={n} name={`${n} p50`} stroke={COLORS[i % COLORS.length]} dot={false} connectNulls isAnimationActive={false} />
          ))}
          {names.map((n, i) => (
            <Line key={`${n}:p95`} type="monotone" dataKey={`${n}:p95`} name={`${n} p95`} stroke={COLORS[i % COLORS.length]} strokeDasharray="4 3" dot={false} connectNulls isAnimationActive={false} />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
