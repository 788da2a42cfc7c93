import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { routerKeys } from '../../api/router.queries';
import { RouterHealthBadge } from '../RouterHealthBadge';
import type { RouterMetricsDto, RouterProviderDto, RouterStatusDto } from '@app/contracts';
import { latencyRows, routerHealth, routerTotals } from '../../format';
import { LatencyChart } from '../LatencyChart';
import { ProviderCard } from '../ProviderCard';
import { RouterSummary } from '../RouterSummary';

function provider(over: Partial<RouterProviderDto> = {}, metrics: Partial<RouterProviderDto['metrics']> = {}): RouterProviderDto {
  return {
    name: 'ollama-local',
    type: 'ollama',
    tier: 'local',
    priority: 1,
    enabled: true,
    disabledReason: null,
    status: 'healthy',
    statusReason: 'serving',
    hint: null,
    circuitState: 'closed',
    circuitOpenedAt: null,
    reachable: true,
    lastProbeAt: null,
    defaultModel: 'llama3.2',
    models: ['llama3.2'],
    endpoint: 'http://127.0.0.1:11434',
    metrics: {
      requests: 10, successes: 9, failures: 1, errorRate: 0.1, p50: 12, p95: 40, p99: 55, avgLatencyMs: 15, tokensIn: 100, tokensOut: 200,
      costUsd: 0, costTodayUsd: 0, consecutiveFailures: 0, lastErrorAt: null, lastError: null, lastSuccessAt: null, ...metrics,
    },
    ...over,
  };
}

function status(providers: RouterProviderDto[], preferred: string | null): RouterStatusDto {
  return {
    totalProviders: providers.length,
    healthyProviders: providers.filter((p) => p.status === 'healthy').length,
    degradedProviders: providers.filter((p) => p.status === 'degraded').length,
    unhealthyProviders: providers.filter((p) => p.status === 'unhealthy').length,
    disabledProviders: providers.filter((p) => p.status === 'disabled').length,
    preferredProvider: preferred,
    allowCloudFallback: false,
    budget: { dailyUsd: null, spentTodayUsd: 0, exhausted: false },
    providers,
    retryPolicy: {
      timeoutMs: 30000,
      maxRetries: 2,
      retryBaseDelayMs: 250,
      retryMaxDelayMs: 4000,
      maxRetryAfterMs: 10000,
      retryOn: ['connection_refused', 'timeout', 'http_5xx'],
      circuitBreaker: { failureThreshold: 5, recoveryTimeoutMs: 60000, halfOpenMaxCalls: 2 },
      healthCheck: { intervalMs: 30000, timeoutMs: 5000 },
      providers: providers.map((p) => ({ name: p.name, timeoutMs: p.name === 'slow' ? 90000 : 30000, maxRetries: 2 })),
    },
    headSeq: 5,
  };
}

afterEach(cleanup);

describe('router dashboard', () => {
  it('a provider card shows status, circuit, metrics and the last error as text (never HTML)', () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    render(
      <ProviderCard
        provider={provider(
          { status: 'unhealthy', statusReason: 'circuit open after 5 consecutive failure(s) (last: timeout)', hint: 'ollama-local accepted the connection but did not answer within 30000 ms', circuitState: 'open', circuitOpenedAt: '2026-11-21T10:00:00.000Z' },
          { errorRate: 0.5, lastError: evil, lastErrorAt: '2026-11-21T10:00:00.000Z' },
        )}
        preferred={false}
        canOperate={false}
        pendingAction={null}
        onAction={() => undefined}
      />,
    );
    expect(screen.getByTestId('router-status-ollama-local').textContent).toBe('unhealthy');
    expect(screen.getByTestId('router-circuit-ollama-local').textContent).toBe('open');
    expect(screen.getByTestId('router-reason-ollama-local').textContent).toContain('circuit open after 5 consecutive failure(s) (last: timeout)');
    expect(screen.getByTestId('router-hint-ollama-local').textContent).toBe('To fix: ollama-local accepted the connection but did not answer within 30000 ms');
    expect(screen.getByText(evil)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    expect(screen.queryByTestId('router-probe-ollama-local')).toBeNull(); // viewers get no controls
  });

  it('operators get enable/disable, reset and probe; a provider missing its env var cannot be enabled', () => {
    const onAction = vi.fn();
    render(<ProviderCard provider={provider({ circuitState: 'open' })} preferred canOperate pendingAction={null} onAction={onAction} />);
    fireEvent.click(screen.getByTestId('router-disable-ollama-local'));
    fireEvent.click(screen.getByTestId('router-reset_circuit-ollama-local'));
    fireEvent.click(screen.getByTestId('router-probe-ollama-local'));
    expect(onAction.mock.calls.map((c) => c[0])).toEqual(['disable', 'reset_circuit', 'probe']);
    cleanup();
    render(<ProviderCard provider={provider({ name: 'openai', enabled: false, status: 'disabled', disabledReason: 'environment variable OPENAI_API_KEY is not set' })} preferred={false} canOperate pendingAction={null} onAction={onAction} />);
    expect((screen.getByTestId('router-enable-openai') as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByText('environment variable OPENAI_API_KEY is not set')).toBeTruthy();
  });

  it('summary: weighted average latency, preferred banner, empty state', () => {
    const a = provider({ name: 'a' }, { successes: 3, avgLatencyMs: 10, requests: 3, failures: 0 });
    const b = provider({ name: 'b' }, { successes: 1, avgLatencyMs: 50, requests: 2, failures: 1 });
    expect(routerTotals([a, b])).toEqual({ requests: 5, successes: 4, failures: 1, avgLatencyMs: 20 });
    render(<RouterSummary status={status([a, b, provider({ name: 'slow' }, { successes: 0, requests: 0, failures: 0, avgLatencyMs: null })], 'a')} />);
    expect(screen.getByTestId('router-banner').textContent).toContain('Serving from a: a healthy (serving)');
    expect(screen.getByTestId('router-banner').getAttribute('data-level')).toBe('ok');
    expect(screen.getByTestId('router-stat-latency').textContent).toBe('20.0 ms');
    const policy = screen.getByTestId('router-retry-policy').textContent ?? '';
    expect(policy).toContain('2 retries after the first attempt, 30.00 s per attempt; retried: connection_refused, timeout, http_5xx');
    expect(policy).toContain('opens after 5 consecutive failures');
    expect(policy).toContain('Overrides: slow 90.00 s / 2 retries.');
    cleanup();
    render(<RouterSummary status={status([], null)} />);
    expect(screen.getByTestId('router-banner').textContent).toContain('No providers configured');
  });

  it('header, banner and card never contradict: a half-open preferred provider is "degraded" in all three', () => {
    const half = provider({ status: 'degraded', circuitState: 'half_open', statusReason: 'circuit half-open: 1/2 trial(s) passed; closes when all pass, re-opens on a failure' });
    const s = status([half], 'ollama-local');
    expect(s.healthyProviders).toBe(0);
    const h = routerHealth(s);
    expect(h).toMatchObject({ level: 'warn', label: 'LLM: ollama-local degraded' });
    render(<RouterSummary status={s} />);
    const banner = screen.getByTestId('router-banner');
    expect(banner.getAttribute('data-level')).toBe('warn');
    expect(banner.textContent).toContain('ollama-local is degraded: circuit half-open: 1/2 trial(s) passed');
    expect(banner.textContent).not.toMatch(/ACTIVE|healthy \(/);
    expect(screen.getByTestId('router-stat-providers').textContent).toBe('0/1 healthy · 1 degraded');
    cleanup();
    render(<ProviderCard provider={half} preferred canOperate={false} pendingAction={null} onAction={() => undefined} />);
    expect(screen.getByTestId('router-status-ollama-local').textContent).toBe('degraded');
    expect(screen.getByTestId('router-reason-ollama-local').textContent).toContain('circuit half-open');
    // a healthy card never carries an error-rate warning of its own (the old lifetime "High error rate detected")
    cleanup();
    render(<ProviderCard provider={provider({}, { errorRate: 0.6 })} preferred canOperate={false} pendingAction={null} onAction={() => undefined} />);
    expect(screen.getByTestId('router-reason-ollama-local').textContent).toBe('serving');
    expect(screen.queryByText(/high error rate/i)).toBeNull();
  });

  it('health badge levels and chart rows', () => {
    expect(routerHealth(status([provider()], 'ollama-local')).level).toBe('ok');
    expect(routerHealth(status([provider({ status: 'unhealthy', circuitState: 'open' }), provider({ name: 'b' })], 'b'))).toMatchObject({ level: 'warn', label: 'LLM: b (fallback)' });
    expect(routerHealth(status([provider({ status: 'unhealthy' })], null)).level).toBe('down');
    const m: RouterMetricsDto = {
      bucketSeconds: 60,
      headSeq: 1,
      providers: [
        { name: 'a', type: 'ollama', status: 'healthy', circuitState: 'closed', metrics: provider().metrics, series: [{ t: '2026-11-21T10:01:00.000Z', requests: 1, failures: 0, p50: 5, p95: 9 }, { t: '2026-11-21T10:00:00.000Z', requests: 1, failures: 0, p50: 4, p95: 8 }] },
        { name: 'b', type: 'openai', status: 'healthy', circuitState: 'closed', metrics: provider().metrics, series: [{ t: '2026-11-21T10:01:00.000Z', requests: 1, failures: 0, p50: 7, p95: 11 }] },
      ],
    };
    render(<LatencyChart metrics={m} />);
    expect(screen.getByTestId('router-chart')).toBeTruthy();
    cleanup();
    render(<LatencyChart metrics={{ ...m, providers: [] }} />);
    expect(screen.getByTestId('router-chart-empty')).toBeTruthy();
    const t0 = Date.parse('2026-11-21T10:00:00.000Z');
    expect(latencyRows(m)).toEqual([
      { t: t0, a: 4, 'a:p95': 8, 'a:req': 1, 'a:err': 0, b: null, 'b:p95': null, 'b:req': 0, 'b:err': 0 },
      { t: t0 + 60_000, a: 5, 'a:p95': 9, 'a:req': 1, 'a:err': 0, b: 7, 'b:p95': 11, 'b:req': 1, 'b:err': 0 },
    ]);
  });

  it('chart rows are on a time axis: empty buckets are present as gaps, an all-failed bucket has no latency', () => {
    const t0 = Date.parse('2026-11-21T10:00:00.000Z');
    const at = (min: number) => new Date(t0 + min * 60_000).toISOString();
    const m: RouterMetricsDto = {
      bucketSeconds: 60,
      headSeq: 1,
      providers: [
        {
          name: 'a',
          type: 'ollama',
          status: 'healthy',
          circuitState: 'closed',
          metrics: provider().metrics,
          series: [
            { t: at(0), requests: 2, failures: 0, p50: 5, p95: 9 },
            { t: at(1), requests: 3, failures: 3, p50: null, p95: null },
            { t: at(4), requests: 1, failures: 0, p50: 6, p95: 6 },
          ],
        },
      ],
    };
    const rows = latencyRows(m);
    expect(rows.map((r) => r.t)).toEqual([0, 1, 2, 3, 4].map((k) => t0 + k * 60_000)); // spaced by time, quiet minutes kept
    expect(rows.map((r) => r.a)).toEqual([5, null, null, null, 6]);
    expect(rows.map((r) => r['a:err'])).toEqual([0, 3, 0, 0, 0]);
    expect(rows.map((r) => r['a:req'])).toEqual([2, 3, 0, 0, 1]);
  });

  it('the header badge shows the serving provider and links to the Router page', () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false, staleTime: Infinity } } });
    qc.setQueryData(routerKeys.status(), { ...status([provider({ status: 'unhealthy', circuitState: 'open' }), provider({ name: 'backup' })], 'backup'), snapshotId: 1 });
    render(
      <QueryClientProvider client={qc}>
        <MemoryRouter>
          <RouterHealthBadge live={false} />
        </MemoryRouter>
      </QueryClientProvider>,
    );
    const badge = screen.getByTestId('router-health-badge');
    expect(badge.textContent).toBe('LLM: backup (fallback)');
    expect(badge.className).toContain('router-health--warn');
    expect(badge.getAttribute('href')).toBe('/router');
  });
});
