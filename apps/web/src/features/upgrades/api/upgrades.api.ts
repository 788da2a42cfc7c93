import type { UpgradeConfigDto, UpgradeDetailDto, UpgradeListDto, UpgradeLogsDto, UpgradeState } from '@app/contracts';
import { api } from '../../../lib/api-client';

export const fetchUpgradeConfig = () => api.get<UpgradeConfigDto>('/api/upgrades/config');
export const fetchUpgrades = (state?: UpgradeState[]) => api.get<UpgradeListDto>('/api/upgrades', { state: state?.join(','), limit: 200 });
export const fetchUpgrade = (id: string) => api.get<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}`);
export const fetchUpgradeLogs = (id: string) => api.get<UpgradeLogsDto>(`/api/upgrades/${encodeURIComponent(id)}/logs`);
/** Approves the diff the operator looked at (`diffSha256`): a moved branch is refused with 409 `upgrade/stale_hash`. */
export const approveUpgrade = (id: string, body: { comment?: string; diffSha256: string }) => api.post<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}/approve`, body);
export const rejectUpgrade = (id: string, body: { comment?: string; diffSha256?: string }) => api.post<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}/reject`, body);
export const retryUpgrade = (id: string) => api.post<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}/retry`);
export const cancelUpgrade = (id: string) => api.post<UpgradeDetailDto>(`/api/upgrades/${encodeURIComponent(id)}/cancel`);
