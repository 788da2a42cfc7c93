import { queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { fetchRouterMetrics, fetchRouterStatus } from './router.api';

export const routerKeys = {
  all: ['router'] as const,
  status: () => ['router', 'status'] as const,
  metrics: () => ['router', 'metrics'] as const,
};

/** Providers with status, circuit and metrics; its headSeq is the `router` channel baseline. */
export const routerStatusQuery = () => queryOptions({ queryKey: routerKeys.status(), queryFn: async () => stampSnapshot(await fetchRouterStatus()) });

/** Metrics with the latency series for the chart. */
export const routerMetricsQuery = () => queryOptions({ queryKey: routerKeys.metrics(), queryFn: async () => stampSnapshot(await fetchRouterMetrics()) });
