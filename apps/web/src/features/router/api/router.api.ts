import type { RouterControlAction, RouterControlResponse, RouterMetricsDto, RouterStatusDto } from '@app/contracts';
import { api } from '../../../lib/api-client';

export const fetchRouterStatus = () => api.get<RouterStatusDto>('/api/router/status');
export const fetchRouterMetrics = () => api.get<RouterMetricsDto>('/api/router/metrics');
/** Operator control of one provider (operator/admin only; 404 unknown provider, 409 when it cannot be enabled). */
export const controlProvider = (name: string, action: RouterControlAction) =>
  api.post<RouterControlResponse>(`/api/router/providers/${encodeURIComponent(name)}/control`, { action });
