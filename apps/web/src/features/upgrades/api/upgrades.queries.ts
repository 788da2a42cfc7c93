import { queryOptions } from '@tanstack/react-query';
import { stampSnapshot } from '../../../lib/realtime-react';
import { fetchUpgrade, fetchUpgradeConfig, fetchUpgradeLogs, fetchUpgrades } from './upgrades.api';

export const upgradeKeys = {
  all: ['upgrades'] as const,
  config: () => ['upgrades', 'config'] as const,
  list: () => ['upgrades', 'list'] as const,
  detail: (id: string) => ['upgrades', 'detail', id] as const,
  logs: (id: string) => ['upgrades', 'logs', id] as const,
};

export const upgradeConfigQuery = () => queryOptions({ queryKey: upgradeKeys.config(), queryFn: fetchUpgradeConfig, staleTime: 60_000 });
/** Every proposal (newest first) with the pending count; its headSeq is the `upgrades` channel baseline. */
export const upgradesQuery = (enabled = true) => queryOptions({ queryKey: upgradeKeys.list(), queryFn: async () => stampSnapshot(await fetchUpgrades()), enabled, retry: false });
export const upgradeQuery = (id: string) => queryOptions({ queryKey: upgradeKeys.detail(id), queryFn: () => fetchUpgrade(id) });
export const upgradeLogsQuery = (id: string) => queryOptions({ queryKey: upgradeKeys.logs(id), queryFn: () => fetchUpgradeLogs(id) });
