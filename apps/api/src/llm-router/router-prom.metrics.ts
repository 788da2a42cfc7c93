import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from '../metrics/metrics.registry';

/** Numeric circuit state for the gauge: closed 0, half_open 1, open 2. */
export const CIRCUIT_GAUGE = { closed: 0, half_open: 1, open: 2 } as const;

/** Snapshot source read at scrape time (so the hot path pays nothing for gauges). */
export interface GaugeSource {
  providers(): { name: string; circuit: keyof typeof CIRCUIT_GAUGE; consecutiveFailures: number; reachable: boolean | null; enabled: boolean }[];
}

/** The router's Prometheus metrics, registered on the process registry of the `metrics` module. */
@Injectable()
export class RouterPromMetrics {
  readonly requests: Counter<'provider' | 'outcome'>;
  readonly duration: Histogram<'provider'>;
  readonly tokens: Counter<'provider' | 'direction'>;
  readonly cost: Counter<'provider'>;
  readonly failovers: Counter<'from' | 'to'>;
  private source: GaugeSource | null = null;

  constructor(metrics: MetricsRegistry) {
    const registers = metrics.registers;
    this.requests = new Counter({ name: 'llm_router_attempts_total', help: 'Provider attempts by outcome (success|failure)', labelNames: ['provider', 'outcome'], registers });
    this.duration = new Histogram({
      name: 'llm_router_attempt_duration_seconds',
      help: 'Duration of successful provider attempts',
      labelNames: ['provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.tokens = new Counter({ name: 'llm_router_tokens_total', help: 'Tokens by direction (in|out)', labelNames: ['provider', 'direction'], registers });
    this.cost = new Counter({ name: 'llm_router_cost_usd_total', help: 'Estimated spend of cloud providers, USD', labelNames: ['provider'], registers });
    this.failovers = new Counter({ name: 'llm_router_failovers_total', help: 'Failovers from one provider to the next (to="none" when all failed)', labelNames: ['from', 'to'], registers });
    const providers = () => this.source?.providers() ?? [];
    new Gauge({
      name: 'llm_router_circuit_state',
      help: 'Circuit breaker state: 0 closed, 1 half_open, 2 open',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const p of providers()) this.set({ provider: p.name }, CIRCUIT_GAUGE[p.circuit]);
      },
    });
    new Gauge({
      name: 'llm_router_consecutive_failures',
      help: 'Consecutive failed attempts per provider',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const p of providers()) this.set({ provider: p.name }, p.consecutiveFailures);
      },
    });
    new Gauge({
      name: 'llm_router_provider_up',
      help: 'Last health probe: 1 reachable, 0 not, -1 not probed yet',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const p of providers()) this.set({ provider: p.name }, p.reachable === null ? -1 : p.reachable ? 1 : 0);
      },
    });
    new Gauge({
      name: 'llm_router_provider_enabled',
      help: '1 when the provider is enabled',
      labelNames: ['provider'],
      registers,
      collect() {
        this.reset();
        for (const p of providers()) this.set({ provider: p.name }, p.enabled ? 1 : 0);
      },
    });
  }

  /** Wires the gauge source (the router service). */
  setSource(source: GaugeSource): void {
    this.source = source;
  }
}
