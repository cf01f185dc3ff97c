import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { InstanceStatus } from '../core/servable.js';
import { PRECISIONS, precisionOf } from '../core/precision.js';
import type { ModelStatisticsSnapshot, PrecisionStatistics } from '../core/statistics.js';
import type { ExecutionEvent, ExecutionObserver } from '../core/telemetry.js';

/** A loaded model version, as the metrics see it. */
export interface MeteredModel {
  readonly name: string;
  readonly version: number;
  statistics(): ModelStatisticsSnapshot;
  pending(): number;
  instances(): readonly InstanceStatus[];
  /** Sequence models only: active sequences and the bytes of implicit state they hold. */
  sequences?(): { readonly active: number; readonly stateBytes: number } | undefined;
}

const LABELS = ['model', 'version'] as const;
/** Labels of the metrics fed by executions: per model version and precision. */
const EXECUTION_LABELS = [...LABELS, 'precision'] as const;

/**
 * Prometheus metrics in a registry that is passed in, never the global one. Triton's
 * per-model counters (`nv_inference_*`, durations in µs) are read from each version's
 * statistics at scrape time, so they equal ModelStatistics for the same traffic by
 * construction. Histograms of request latency and executed batch size (which Triton's
 * summaries cannot give, as summaries do not aggregate across replicas) are fed by
 * executions. Process and event-loop metrics come from prom-client's defaults.
 */
export class ModelMetrics implements ExecutionObserver {
  private readonly requestSeconds: Histogram<(typeof EXECUTION_LABELS)[number]>;
  private readonly batchSize: Histogram<(typeof EXECUTION_LABELS)[number]>;

  constructor(
    registry: Registry,
    private readonly models: () => Iterable<MeteredModel>,
    /** The nv_inference_*_duration_us counters (Triton's --metrics-config counter_latencies, default true). */
    counterLatencies = true,
  ) {
    const perModel = (name: string, help: string, value: (s: ModelStatisticsSnapshot) => number) =>
      this.counter(registry, name, help, value);
    perModel('nv_inference_request_success', 'Number of successful inference requests, all batch sizes', (s) => s.success.count);
    perModel('nv_inference_count', 'Number of inferences performed (does not include cached requests)', (s) => s.inferenceCount);
    perModel('nv_inference_exec_count', 'Number of model executions performed (does not include cached requests)', (s) => s.executionCount);
    if (counterLatencies) this.latencyCounters(registry);
    const sources = this.models;
    new Counter({
      name: 'nv_inference_request_failure',
      help: 'Number of failed inference requests, all batch sizes',
      labelNames: [...LABELS, 'reason'],
      registers: [registry],
      collect() {
        this.reset();
        for (const model of sources()) {
          const failures = model.statistics().failures;
          for (const [reason, count] of Object.entries(failures)) this.inc({ model: model.name, version: String(model.version), reason }, count);
        }
      },
    });
    new Gauge({
      name: 'nv_inference_pending_request_count',
      help: 'Instantaneous number of pending requests awaiting execution per-model.',
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        for (const model of sources()) this.set({ model: model.name, version: String(model.version) }, model.pending());
      },
    });
    for (const [name, help, value] of [
      ['nereid_sequence_active', 'Sequences of a sequence model holding a batch slot or waiting for one', (q: { active: number }) => q.active],
      ['nereid_sequence_state_bytes', 'Bytes of implicit state the active sequences of a model keep between their requests', (q: { stateBytes: number }) => q.stateBytes],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: LABELS,
        registers: [registry],
        collect() {
          this.reset();
          for (const model of sources()) {
            const sequences = model.sequences?.();
            if (sequences !== undefined) this.set({ model: model.name, version: String(model.version) }, value(sequences));
          }
        },
      });
    }
    new Counter({
      name: 'nereid_instance_executions_total',
      // `lane`, not `instance`: Prometheus keeps `instance` for the scrape target.
      help: 'Model executions per instance (lane), with the execution provider and device it runs on',
      labelNames: [...LABELS, 'lane', 'provider', 'device'],
      registers: [registry],
      collect() {
        this.reset();
        for (const model of sources()) {
          for (const instance of model.instances()) {
            const labels = { model: model.name, version: String(model.version), lane: instance.name, provider: instance.executionProvider, device: `${instance.executionProvider}:${instance.deviceId}` };
            this.inc(labels, instance.executions);
          }
        }
      },
    });
    for (const [name, help, value] of [
      ['nereid_precision_inference_count', 'Inferences performed per precision (fp32, fp16, int8), counted per batch element', (p: PrecisionStatistics) => p.inferenceCount],
      ['nereid_precision_request_success', 'Successful inference requests per precision', (p: PrecisionStatistics) => p.success.count],
      ['nereid_precision_request_failure', 'Failed inference requests per precision', (p: PrecisionStatistics) => p.fail.count],
    ] as const) {
      new Counter({
        name,
        help,
        labelNames: EXECUTION_LABELS,
        registers: [registry],
        collect() {
          this.reset();
          for (const model of sources()) {
            for (const p of model.statistics().precisions) this.inc({ model: model.name, version: String(model.version), precision: p.precision }, value(p));
          }
        },
      });
    }
    this.requestSeconds = new Histogram({
      name: 'nereid_inference_request_duration_seconds',
      help: 'Time from receiving a successful inference request to its response being ready, in seconds',
      labelNames: EXECUTION_LABELS,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.batchSize = new Histogram({
      name: 'nereid_inference_batch_size',
      help: 'Items per model execution (the size of each dynamic batch)',
      labelNames: EXECUTION_LABELS,
      buckets: [1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    });
    collectDefaultMetrics({ register: registry });
  }

  onExecution(event: ExecutionEvent): void {
    const labels = { model: event.model, version: String(event.version), precision: precisionOf(event.variant) };
    this.batchSize.observe(labels, event.items);
    for (const request of event.requests) {
      if (request.answered) this.requestSeconds.observe(labels, (event.end - request.receivedAt) / 1000);
    }
  }

  /** Drops the histogram series of a version that is gone (unloaded, not replaced). */
  forgetVersion(model: string, version: number): void {
    for (const precision of PRECISIONS) {
      const labels = { model, version: String(version), precision };
      this.batchSize.remove(labels);
      this.requestSeconds.remove(labels);
    }
  }

  private latencyCounters(registry: Registry): void {
    const perModel = (name: string, help: string, value: (s: ModelStatisticsSnapshot) => number) =>
      this.counter(registry, name, help, value);
    perModel('nv_inference_request_duration_us', 'Cumulative inference request duration in microseconds (includes cached requests)', (s) => us(s.success.ns));
    perModel('nv_inference_queue_duration_us', 'Cumulative inference queuing duration in microseconds (includes cached requests)', (s) => us(s.queue.ns));
    perModel('nv_inference_compute_input_duration_us', 'Cumulative compute input duration in microseconds (does not include cached requests)', (s) => us(s.computeInput.ns));
    perModel('nv_inference_compute_infer_duration_us', 'Cumulative compute inference duration in microseconds (does not include cached requests)', (s) => us(s.computeInfer.ns));
    perModel('nv_inference_compute_output_duration_us', 'Cumulative inference compute output duration in microseconds (does not include cached requests)', (s) => us(s.computeOutput.ns));
  }

  private counter(registry: Registry, name: string, help: string, value: (s: ModelStatisticsSnapshot) => number): void {
    statisticsCounter(registry, this.models, name, help, value);
  }
}

/**
 * A counter labelled model and version whose value each scrape reads from the versions'
 * ModelStatistics; a version for which `value` is undefined gets no series.
 */
export function statisticsCounter(
  registry: Registry,
  models: () => Iterable<MeteredModel>,
  name: string,
  help: string,
  value: (s: ModelStatisticsSnapshot) => number | undefined,
): void {
  new Counter({
    name,
    help,
    labelNames: LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const model of models()) {
        const figure = value(model.statistics());
        if (figure !== undefined) this.inc({ model: model.name, version: String(model.version) }, figure);
      }
    },
  });
}

/** Nanoseconds as whole microseconds, the unit of Triton's duration metrics. */
export function us(ns: bigint): number {
  return Number(ns / 1000n);
}
