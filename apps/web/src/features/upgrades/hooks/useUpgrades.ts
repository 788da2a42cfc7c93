import { useEffect, useRef } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { EventEnvelope, UpgradeDetailDto, UpgradeLogsDto } from '@app/contracts';
import { useBaseline, useChannel } from '../../../lib/realtime-react';
import { approveUpgrade, cancelUpgrade, rejectUpgrade, retryUpgrade } from '../api/upgrades.api';
import { upgradeConfigQuery, upgradeKeys, upgradeLogsQuery, upgradeQuery, upgradesQuery } from '../api/upgrades.queries';

const PENDING = new Set(['proposed']);
const ACTIVE = new Set(['approved', 'queued', 'testing']);

export const useUpgradeConfig = () => useQuery(upgradeConfigQuery());

/** The proposals split into pending (waiting for a decision, oldest first), in the queue, and history (newest first). */
export function useUpgrades() {
  const config = useUpgradeConfig();
  const query = useQuery(upgradesQuery(config.data?.enabled === true));
  const items = query.data?.items ?? [];
  const pending = items.filter((u) => PENDING.has(u.state)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const active = items.filter((u) => ACTIVE.has(u.state)).sort((a, b) => (a.queuePosition ?? 0) - (b.queuePosition ?? 0));
  const history = items.filter((u) => !PENDING.has(u.state) && !ACTIVE.has(u.state));
  return { ...query, config, pending, active, history };
}

export const useUpgrade = (id: string) => useQuery(upgradeQuery(id));
export const useUpgradeLogs = (id: string) => useQuery(upgradeLogsQuery(id));

function useDecision<A>(fn: (args: A) => Promise<UpgradeDetailDto>) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: fn,
    onSuccess: (u) => {
      qc.setQueryData(upgradeKeys.detail(u.id), u);
      void qc.invalidateQueries({ queryKey: upgradeKeys.list() });
    },
    onError: () => void qc.invalidateQueries({ queryKey: upgradeKeys.all }),
  });
}

export const useApproveUpgrade = () => useDecision((a: { id: string; diffSha256: string; comment?: string }) => approveUpgrade(a.id, { diffSha256: a.diffSha256, comment: a.comment || undefined }));
export const useRejectUpgrade = () => useDecision((a: { id: string; diffSha256: string; comment?: string }) => rejectUpgrade(a.id, { diffSha256: a.diffSha256, comment: a.comment || undefined }));
export const useRetryUpgrade = () => useDecision((id: string) => retryUpgrade(id));
export const useCancelUpgrade = () => useDecision((id: string) => cancelUpgrade(id));

const byteLength = (s: string) => new TextEncoder().encode(s).length;

/**
 * Appends a live `upgrade.test_output` chunk to the cached logs when it continues them exactly (by byte offset);
 * returns false when a chunk is missing (the caller refetches the logs).
 */
export function appendOutput(logs: UpgradeLogsDto | undefined, e: EventEnvelope): { logs: UpgradeLogsDto | undefined; ok: boolean } {
  const data = e.data as Record<string, unknown>;
  const chunk = typeof data.chunk === 'string' ? data.chunk : '';
  const offset = typeof data.offset === 'number' ? data.offset : -1;
  const attempt = typeof data.attempt === 'number' ? data.attempt : -1;
  if (!logs) return { logs, ok: false };
  if (attempt !== logs.attempt) return { logs, ok: attempt < logs.attempt };
  const have = byteLength(logs.testOutput);
  if (offset + byteLength(chunk) <= have) return { logs, ok: true }; // already have it
  if (offset !== have) return { logs, ok: false };
  return { logs: { ...logs, testOutput: logs.testOutput + chunk, testOutputTruncated: data.truncated === true }, ok: true };
}

/**
 * The upgrades feature's one realtime hook (mount once per page): `upgrade.*` events on `upgrades` refetch the list
 * and the affected details (coalesced per 200 ms); `upgrade.test_output` chunks extend the cached logs in place.
 */
export function useUpgradesLiveUpdates(): void {
  const qc = useQueryClient();
  const config = useUpgradeConfig();
  const enabled = config.data?.enabled === true;
  const list = useQuery(upgradesQuery(enabled));
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const dirty = useRef(new Set<string>());
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  const sub = useChannel(enabled ? 'upgrades' : null, {
    onEvents: (events) => {
      for (const e of events) {
        const raw = (e.data as Record<string, unknown>).upgradeId;
        const id = typeof raw === 'string' ? raw : null;
        if (!id) continue;
        if (e.type === 'upgrade.test_output') {
          const res = appendOutput(qc.getQueryData<UpgradeLogsDto>(upgradeKeys.logs(id)), e);
          if (res.ok && res.logs) qc.setQueryData(upgradeKeys.logs(id), res.logs);
          else if (!res.ok) void qc.invalidateQueries({ queryKey: upgradeKeys.logs(id) });
          continue;
        }
        dirty.current.add(id);
      }
      if (dirty.current.size === 0 || timer.current) return;
      timer.current = setTimeout(() => {
        timer.current = null;
        const ids = [...dirty.current];
        dirty.current.clear();
        void qc.invalidateQueries({ queryKey: upgradeKeys.list() });
        for (const id of ids) {
          void qc.invalidateQueries({ queryKey: upgradeKeys.detail(id) });
          void qc.invalidateQueries({ queryKey: upgradeKeys.logs(id) });
        }
      }, 200);
    },
    onGap: () => void qc.invalidateQueries({ queryKey: upgradeKeys.all }),
  });
  useBaseline(sub, list.data);
}
