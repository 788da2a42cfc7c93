import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The Prometheus registry of one app instance (one per Nest app, so several apps in one test process do not
 * collide), served on `GET /metrics`. Node's default metrics are registered with the `mission_control_` prefix;
 * each module registers its own metrics here (pass `registers: [metrics.registry]` to prom-client constructors).
 */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mission_control_' });
  }

  /** The registry as prom-client's `registers` option. */
  get registers(): Registry[] {
    return [this.registry];
  }
}
