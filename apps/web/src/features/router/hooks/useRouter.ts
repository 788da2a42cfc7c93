import { useEffect, useRef } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { RouterControlAction } from '@app/contracts';
import { useBaseline, useChannel } from '../../../lib/realtime-react';
import { controlProvider } from '../api/router.api';
import { routerKeys, routerMetricsQuery, routerStatusQuery } from '../api/router.queries';

export const useRouterStatus = () => useQuery(routerStatusQuery());
export const useRouterMetrics = () => useQuery(routerMetricsQuery());

/** enable / disable / reset_circuit / probe; the router's events refresh the page, the result is applied at once. */
export function useProviderControl() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ name, action }: { name: string; action: RouterControlAction }) => controlProvider(name, action),
    onSettled: () => qc.invalidateQueries({ queryKey: routerKeys.all }),
  });
}

/** How long router events are coalesced before one refetch (ms). */
export const ROUTER_REFETCH_DEBOUNCE_MS = 300;

/**
 * The router feature's one realtime hook: any `router.*` event (state change, failover, budget, metrics flush) on
 * the `router` channel refetches status and metrics, coalesced to one refetch per 300 ms. Mount once per page.
 */
export function useRouterLiveUpdates(): void {
  const qc = useQueryClient();
  const status = useRouterStatus();
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const sub = useChannel('router', {
    onEvents: (events) => {
      if (!events.some((e) => e.type.startsWith('router.')) || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        void qc.invalidateQueries({ queryKey: routerKeys.all });
      }, ROUTER_REFETCH_DEBOUNCE_MS);
    },
    onGap: () => {
      void qc.invalidateQueries({ queryKey: routerKeys.all });
    },
  });
  useBaseline(sub, status.data);
}
