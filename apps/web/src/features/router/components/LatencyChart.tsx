import type { RouterMetricsDto } from '@app/contracts';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatClock } from '../../../lib/time';
import { formatMs, latencyRows, type SeriesRow } from '../format';

const COLORS = ['#39c5bb', '#6aa8ff', '#e8b84a', '#c38bff', '#5bd68a', '#f0a03c'];
const ERROR_COLOR = '#ef6b6b';
const TOOLTIP_STYLE = { background: '#131d28', border: '1px solid #243446' };

type LatencyChartProps = { metrics: RouterMetricsDto | undefined };

const clock = (t: number) => formatClock(new Date(t).toISOString());

/** A time axis (epoch ms, spaced by time, not by bucket index) shared by both charts. */
function timeAxis(rows: SeriesRow[]) {
  return (
    <XAxis
      dataKey="t"
      type="number"
      scale="time"
      domain={[rows[0].t, rows[rows.length - 1].t]}
      tickFormatter={clock}
      stroke="#8397ab"
      fontSize={11}
      minTickGap={24}
      padding={{ left: 12, right: 12 }}
    />
  );
}

/**
 * Latency per provider on a time axis: p50 (solid) and p95 (dashed) with a dot on every bucket that had a successful
 * call, and a break (no line) across buckets without one, so one request shows as a dot and an outage as a gap.
 * Below it, requests and errors per bucket (stacked bars: successful + failed = requests).
 */
export function LatencyChart({ metrics }: LatencyChartProps) {
  const rows = latencyRows(metrics);
  const names = metrics?.providers.filter((p) => p.series.length > 0).map((p) => p.name) ?? [];
  if (rows.length === 0) return <p className="muted small" data-testid="router-chart-empty">No traffic yet: latency appears here after the first routed requests.</p>;
  const counts = rows.map((r) => {
    const out: SeriesRow = { t: r.t };
    for (const n of names) {
      const req = Number(r[`${n}:req`] ?? 0);
      const err = Number(r[`${n}:err`] ?? 0);
      out[`${n}:ok`] = req - err;
      out[`${n}:err`] = err;
    }
    return out;
  });
  return (
    <div className="router-charts">
      <div className="router-chart" data-testid="router-chart" data-points={rows.filter((r) => names.some((n) => r[n] !== null)).length}>
        <ResponsiveContainer width="100%" height="100%">
          <LineChart data={rows} margin={{ top: 8, right: 16, bottom: 4, left: 4 }}>
            <CartesianGrid stroke="#243446" strokeDasharray="3 3" />
            {timeAxis(rows)}
            <YAxis stroke="#8397ab" fontSize={11} tickFormatter={(v: number) => formatMs(v)} width={70} />
            <Tooltip contentStyle={TOOLTIP_STYLE} labelFormatter={(t) => clock(Number(t))} formatter={(v, key) => [formatMs(typeof v === 'number' ? v : null), String(key)]} />
            <Legend />
            {names.map((n, i) => (
              <Line key={n} type="linear" dataKey={n} name={`${n} p50`} stroke={COLORS[i % COLORS.length]} dot={{ r: 3 }} connectNulls={false} isAnimationActive={false} />
            ))}
            {names.map((n, i) => (
              <Line
                key={`${n}:p95`}
                type="linear"
                dataKey={`${n}:p95`}
                name={`${n} p95`}
                stroke={COLORS[i % COLORS.length]}
                strokeDasharray="4 3"
                dot={{ r: 2 }}
                connectNulls={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
      <div className="router-chart router-chart--counts" data-testid="router-counts-chart">
        <ResponsiveContainer width="100%" height="100%">
          <BarChart data={counts} margin={{ top: 8, right: 16, bottom: 4, left: 4 }} barSize={8}>
            <CartesianGrid stroke="#243446" strokeDasharray="3 3" />
            {timeAxis(rows)}
            <YAxis stroke="#8397ab" fontSize={11} allowDecimals={false} width={70} />
            <Tooltip contentStyle={TOOLTIP_STYLE} labelFormatter={(t) => clock(Number(t))} />
            <Legend />
            {names.map((n, i) => (
              <Bar key={`${n}:ok`} dataKey={`${n}:ok`} name={`${n} ok`} stackId={n} fill={COLORS[i % COLORS.length]} isAnimationActive={false} />
            ))}
            {names.map((n) => (
              <Bar key={`${n}:err`} dataKey={`${n}:err`} name={`${n} errors`} stackId={n} fill={ERROR_COLOR} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}
