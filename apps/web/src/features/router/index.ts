export { RouterHealthBadge } from './components/RouterHealthBadge';
export { useRouterLiveUpdates, useRouterStatus, useRouterMetrics, useProviderControl } from './hooks/useRouter';
