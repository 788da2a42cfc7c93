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
    headSeq: 5,
  };
}

afterEach(cleanup);

describe('router dashboard', () => {
  it('a provider card shows status, circuit, metrics and the last error as text (never HTML)', () => {
    const evil = '<img src=x onerror="window.__pwned=1">';
    render(
      <ProviderCard
        provider={provider({ status: 'unhealthy', circuitState: 'open', circuitOpenedAt: '2026-11-21T10:00:00.000Z' }, { errorRate: 0.5, lastError: evil, lastErrorAt: '2026-11-21T10:00:00.000Z' })}
        preferred={false}
        canOperate={false}
        pendingAction={null}
        onAction={() => undefined}
      />,
    );
    expect(screen.getByTestId('router-status-ollama-local').textContent).toBe('unhealthy');
    expect(screen.getByTestId('router-circuit-ollama-local').textContent).toBe('open');
    expect(screen.getByText('High error rate detected')).toBeTruthy();
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
    render(<RouterSummary status={status([a, b], 'a')} />);
    expect(screen.getByTestId('router-banner').textContent).toContain('Preferred provider: a ACTIVE');
    expect(screen.getByTestId('router-stat-latency').textContent).toBe('20.0 ms');
    cleanup();
    render(<RouterSummary status={status([], null)} />);
    expect(screen.getByTestId('router-banner').textContent).toContain('No providers configured');
  });

  it('health badge levels and chart rows', () => {
    expect(routerHealth(status([provider()], 'ollama-local')).level).toBe('ok');
    expect(routerHealth(status([provider({ status: 'unhealthy', circuitState: 'open' }), provider({ name: 'b' })], 'b'))).toMatchObject({ level: 'warn', label: 'LLM: b' });
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
    expect(latencyRows(m)).toEqual([
      { t: '2026-11-21T10:00:00.000Z', a: 4, 'a:p95': 8 },
      { t: '2026-11-21T10:01:00.000Z', a: 5, 'a:p95': 9, b: 7, 'b:p95': 11 },
    ]);
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
    expect(badge.textContent).toBe('LLM: backup');
    expect(badge.className).toContain('router-health--warn');
    expect(badge.getAttribute('href')).toBe('/router');
  });
});
