import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { ReconciliationDifference, ReconciliationReportDto } from '@app/contracts';
import { DataSource } from 'typeorm';
import { nowIso } from '../common/time.util';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventLogWriter } from '../event-log/event-log.writer';
import { LIGHTNING_BACKEND, type LightningBackend } from './backends/lightning-backend';
import { LedgerJobEntity } from './entities/ledger-job.entity';
import { LedgerTransactionEntity } from './entities/ledger-transaction.entity';
import { LEDGER_SOURCE, LedgerService } from './ledger.service';

/** Max differences listed in one report (the count is exact; the list is cut). */
export const MAX_LISTED_DIFFERENCES = 1000;

/**
 * Compares the ledger with the node (issue 8 section 3, "Reconciliation"): the node's channel balance against the
 * ledger's settled net, every invoice and payment the node lists against the ledger's transactions, both ways.
 * `report()` is the endpoint; a scheduled run (every LEDGER_RECONCILE_MS, claimed once across instances through a
 * conditional update of `ledger_jobs.nextRunAt`) appends `ledger.reconciliation_drift` and `system.warning` when it
 * finds differences.
 */
@Injectable()
export class ReconciliationService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('LedgerReconcile');
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventLogWriter,
    private readonly ledger: LedgerService,
    @Inject(LIGHTNING_BACKEND) private readonly backend: LightningBackend,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.LEDGER_RECONCILE_MS <= 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.scheduledRun()
        .catch((err: unknown) => this.logger.error(`scheduled reconciliation failed: ${(err as Error).message}`))
        .finally(() => (this.running = null));
    }, Math.min(this.config.LEDGER_RECONCILE_MS, 60_000));
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** The ledger compared with the node now. @throws AppError `ledger/backend_error` (503) when the node is unreachable. */
  async report(): Promise<ReconciliationReportDto> {
    const snap = await this.backend.snapshot();
    const formula = await this.ledger.balanceFormula(null);
    const rows = await this.dataSource.getRepository(LedgerTransactionEntity).find();
    const incoming = new Map(rows.filter((r) => r.type === 'incoming').map((r) => [r.paymentHash, r]));
    const outgoing = new Map(rows.filter((r) => r.type === 'outgoing').map((r) => [r.paymentHash, r]));
    const diffs: ReconciliationDifference[] = [];
    const add = (d: ReconciliationDifference) => diffs.push(d);
    if (snap.channelBalanceMsat !== formula.netMsat) {
      add({ kind: 'balance', paymentHash: null, ledger: `net ${formula.netMsat} msat`, node: `channel balance ${snap.channelBalanceMsat} msat` });
    }
    const nodeInvoices = new Map(snap.invoices.map((i) => [i.paymentHash, i]));
    for (const inv of snap.invoices) {
      const t = incoming.get(inv.paymentHash);
      if (!t) {
        if (inv.state === 'settled') add({ kind: 'invoice_missing_in_ledger', paymentHash: inv.paymentHash, ledger: 'no transaction', node: inv.state });
        continue;
      }
      if (inv.state === 'settled' && t.status !== 'settled') add({ kind: 'invoice_settled_on_node_only', paymentHash: inv.paymentHash, ledger: t.status, node: 'settled' });
      if (inv.state !== 'settled' && t.status === 'settled') add({ kind: 'invoice_settled_in_ledger_only', paymentHash: inv.paymentHash, ledger: 'settled', node: inv.state });
    }
    for (const t of incoming.values()) {
      if (!nodeInvoices.has(t.paymentHash)) add({ kind: 'invoice_missing_on_node', paymentHash: t.paymentHash, ledger: t.status, node: 'unknown' });
    }
    const nodePayments = new Map(snap.payments.map((p) => [p.paymentHash, p]));
    for (const p of snap.payments) {
      const t = outgoing.get(p.paymentHash);
      if (!t) {
        if (p.status !== 'failed') add({ kind: 'payment_missing_in_ledger', paymentHash: p.paymentHash, ledger: 'no transaction', node: p.status });
        continue;
      }
      if (p.status === 'succeeded' && t.status !== 'settled') add({ kind: 'payment_succeeded_on_node_only', paymentHash: p.paymentHash, ledger: t.status, node: 'succeeded' });
      if (p.status !== 'succeeded' && t.status === 'settled') add({ kind: 'payment_settled_in_ledger_only', paymentHash: p.paymentHash, ledger: 'settled', node: p.status });
      if (p.status === 'succeeded' && t.status === 'settled' && (p.amountMsat !== t.amountMsat || p.feeMsat !== t.feeMsat)) {
        add({ kind: 'payment_amount_mismatch', paymentHash: p.paymentHash, ledger: `${t.amountMsat} + fee ${t.feeMsat} msat`, node: `${p.amountMsat} + fee ${p.feeMsat} msat` });
      }
    }
    for (const t of outgoing.values()) {
      if (t.status === 'settled' && !nodePayments.has(t.paymentHash)) add({ kind: 'payment_settled_in_ledger_only', paymentHash: t.paymentHash, ledger: 'settled', node: 'unknown' });
    }
    return {
      checkedAt: nowIso(),
      backend: this.backend.name,
      ok: diffs.length === 0,
      nodeBalanceMsat: snap.channelBalanceMsat,
      ledgerNetMsat: formula.netMsat,
      invoicesChecked: snap.invoices.length,
      paymentsChecked: snap.payments.length,
      differences: diffs.slice(0, MAX_LISTED_DIFFERENCES),
    };
  }

  /**
   * One scheduled run if this instance claims it (conditional update of `nextRunAt`; another instance that read the
   * same value updates nothing). Returns the report, or null when another instance has the period.
   */
  async scheduledRun(nowMs = Date.now()): Promise<ReconciliationReportDto | null> {
    const job = await this.dataSource.getRepository(LedgerJobEntity).findOne({ where: { name: 'reconcile' } });
    if (!job || Date.parse(job.nextRunAt) > nowMs) return null;
    const next = new Date(nowMs + this.config.LEDGER_RECONCILE_MS).toISOString();
    const claimed = await this.events.write(async ({ manager }) => {
      const r = await manager
        .createQueryBuilder()
        .update(LedgerJobEntity)
        .set({ nextRunAt: next })
        .where('name = :n AND "nextRunAt" = :prev', { n: 'reconcile', prev: job.nextRunAt })
        .execute();
      return r.affected === 1;
    });
    if (!claimed) return null;
    const report = await this.report();
    const summary = summarise(report);
    await this.events.write(async (tx) => {
      await tx.manager.update(LedgerJobEntity, { name: 'reconcile' }, { lastRunAt: report.checkedAt, lastResult: JSON.stringify({ ok: report.ok, differences: report.differences.length }) });
      if (report.ok) return;
      tx.append({ type: 'ledger.reconciliation_drift', source: LEDGER_SOURCE, data: { differences: report.differences.length, summary } });
      tx.append({ type: 'system.warning', source: LEDGER_SOURCE, data: { message: `ledger differs from the Lightning node: ${summary}`, differences: report.differences.length } });
    });
    return report;
  }
}

function summarise(r: ReconciliationReportDto): string {
  const byKind = new Map<string, number>();
  for (const d of r.differences) byKind.set(d.kind, (byKind.get(d.kind) ?? 0) + 1);
  return [...byKind].map(([k, n]) => `${n} ${k}`).join(', ').slice(0, 300) || 'none';
}
