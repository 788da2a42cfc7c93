import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Context, Tracer } from '@opentelemetry/api';
import type { BatchSpanProcessor, BasicTracerProvider, IdGenerator } from '@opentelemetry/sdk-trace-base';
import type { EventEnvelope, EventType } from '@app/contracts';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { EventConsumersService } from '../event-log/consumers/event-consumers.service';
import { EventLogReader } from '../event-log/event-log.reader';
import { LlmRouterService } from '../llm-router/llm-router.service';
import { AgentsService } from '../swarm/agents/agents.service';
import { findPersona } from '../swarm/personas/personas.constants';
import { otlpTracesUrl } from './otlp-config';
import { taskTraceSpans, type SpanSpec, type TraceAgent } from './task-trace-spans';

/** Name of the durable consumer that exports finished tasks (its cursor row in `event_consumers`). */
export const OTEL_TRACES_CONSUMER = 'telemetry.otel-task-traces';

/** The task events that end a task: its trace is exported then. */
const TERMINAL: readonly EventType[] = ['task.completed', 'task.failed', 'task.cancelled'];

/** Instrumentation scope of the exported spans. */
const SCOPE = 'mission-control.task-traces';

/**
 * Trace ids for the export: a task's trace id is its uuid without dashes (so a trace is found by task id in any
 * backend, and an export that is repeated lands in the same trace); span ids are random.
 */
class TaskTraceIds implements IdGenerator {
  next: string | null = null;
  generateTraceId(): string {
    return this.next ?? randomBytes(16).toString('hex');
  }
  generateSpanId(): string {
    return randomBytes(8).toString('hex');
  }
}

/**
 * Exports every finished task's trace to an OTLP/HTTP collector as OpenTelemetry GenAI spans, with the official JS
 * SDK (BasicTracerProvider + BatchSpanProcessor + OTLPTraceExporter). Only built when `OTEL_EXPORTER_OTLP_ENDPOINT`
 * (or `..._TRACES_ENDPOINT`) is set (see TelemetryModule); the SDK is loaded lazily, so an unset endpoint costs nothing.
 *
 * A durable consumer (`telemetry.otel-task-traces`, from the head) sees each terminal task event; after its cursor
 * commits, the task's events are read back from the log, turned into spans (`taskTraceSpans`) and flushed. Delivery
 * is at most once per task (an exporter that is down loses those traces; the SDK logs it), and nothing here ever
 * delays or fails a task.
 */
@Injectable()
export class OtelTaskTracesService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('OtelTraces');
  private provider: BasicTracerProvider | null = null;
  private processor: BatchSpanProcessor | null = null;
  private tracer: Tracer | null = null;
  private readonly ids = new TaskTraceIds();
  private api: typeof import('@opentelemetry/api') | null = null;
  private readonly inflight = new Set<Promise<void>>();
  /** `error.type` (stable semconv name, read from the package with the SDK). */
  private errorType = 'error.type';

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly consumers: EventConsumersService,
    private readonly reader: EventLogReader,
    private readonly agents: AgentsService,
    private readonly router: LlmRouterService,
  ) {}

  /** Loads the SDK and registers the consumer when an OTLP endpoint is configured; does nothing otherwise. */
  async onModuleInit(): Promise<void> {
    const url = otlpTracesUrl(this.config);
    if (!url) return;
    const [api, sdk, otlp, resources, semconv] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/semantic-conventions'),
    ]);
    this.api = api;
    this.processor = new sdk.BatchSpanProcessor(new otlp.OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 });
    this.provider = new sdk.BasicTracerProvider({
      resource: resources.resourceFromAttributes({ [semconv.ATTR_SERVICE_NAME]: this.config.OTEL_SERVICE_NAME }),
      idGenerator: this.ids,
      spanProcessors: [this.processor],
    });
    this.tracer = this.provider.getTracer(SCOPE);
    this.errorType = semconv.ATTR_ERROR_TYPE;
    this.consumers.register({
      name: OTEL_TRACES_CONSUMER,
      types: TERMINAL,
      startFrom: 'head',
      batchSize: 50,
      handle: (events) => {
        const taskIds = [...new Set(events.map((e) => e.taskId).filter((id): id is string => !!id))];
        return Promise.resolve(() => this.track(this.exportTasks(taskIds)));
      },
    });
    this.logger.log(`exporting task traces (OpenTelemetry GenAI spans) to ${url}`);
  }

  /** Waits for exports in flight, then flushes and shuts the SDK down. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    await this.provider?.shutdown().catch((err: Error) => this.logger.warn(`OTLP shutdown: ${err.message}`));
  }

  /** Exports the traces of these (finished) tasks and flushes them to the collector. Never throws. */
  async exportTasks(taskIds: readonly string[]): Promise<void> {
    if (!this.tracer || !this.processor) return;
    for (const taskId of taskIds) {
      try {
        const events = await this.reader.find({ taskId, after: 0 }, 5000, 'asc');
        const spec = taskTraceSpans(events, await this.agentOf(events), (p) => this.router.providers().find((x) => x.name === p)?.type ?? null);
        if (spec) this.emitTrace(taskId, spec);
      } catch (err) {
        this.logger.warn(`task ${taskId}: trace not exported: ${(err as Error).message}`);
      }
    }
    await this.processor.forceFlush().catch((err: Error) => this.logger.warn(`OTLP export failed: ${err.message}`));
  }

  private async agentOf(events: readonly EventEnvelope[]): Promise<TraceAgent | null> {
    const assigned = [...events].reverse().find((e) => e.type === 'task.assigned');
    if (!assigned?.agentId) return null;
    const agent = await this.agents.get(assigned.agentId).catch(() => null);
    if (!agent) return { id: assigned.agentId, name: assigned.agentId };
    const persona = agent.personaId ? findPersona(agent.personaId) : undefined;
    return { id: agent.id, name: agent.name, ...(persona ? { description: `${persona.role}: ${persona.description}` } : {}) };
  }

  private emitTrace(taskId: string, root: SpanSpec): void {
    const hex = taskId.replace(/-/g, '').toLowerCase();
    this.ids.next = /^[0-9a-f]{32}$/.test(hex) && !/^0+$/.test(hex) ? hex : null;
    try {
      this.emit(root, this.api!.ROOT_CONTEXT);
    } finally {
      this.ids.next = null;
    }
  }

  /** Starts the span under `parent`, its children under it, then ends it at its recorded end time. */
  private emit(spec: SpanSpec, parent: Context): void {
    const api = this.api!;
    const span = this.tracer!.startSpan(
      spec.name,
      { kind: spec.kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL, startTime: spec.startMs, attributes: spec.attributes },
      parent,
    );
    if (spec.error) {
      span.setAttribute(this.errorType, spec.error.type);
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: spec.error.message.slice(0, 1000) });
    }
    const ctx = api.trace.setSpan(parent, span);
    for (const child of spec.children) this.emit(child, ctx);
    span.end(spec.endMs);
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }
}
