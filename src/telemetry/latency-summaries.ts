import { Summary, type Registry } from 'prom-client';
import type { ExecutionEvent, ExecutionObserver } from '../core/telemetry.js';

/** A quantile and its allowed error, as --metrics-config summary_quantiles gives them. */
export interface Quantile {
  readonly quantile: number;
  readonly error: number;
}

const LABELS = ['model', 'version'] as const;
/** prometheus-cpp's defaults, which Triton's summaries use: a 60 s window in 5 buckets. */
const MAX_AGE_SECONDS = 60;
const AGE_BUCKETS = 5;

/**
 * Triton's latency summaries (`--metrics-config summary_latencies=true`), in µs per model
 * version over a sliding 60 s window: nv_inference_request_summary_us,
 * nv_inference_queue_summary_us, nv_inference_compute_input_summary_us,
 * nv_inference_compute_infer_summary_us and nv_inference_compute_output_summary_us, each
 * with its quantiles, _count and _sum. Fed per answered request of every execution, with
 * the phases ModelStatistics uses, so _count and _sum match the counters for executed
 * requests. Cache hits never execute and are not observed (Triton drops the request
 * summary altogether for models with the cache). prom-client estimates quantiles with a
 * t-digest, so the configured errors are accepted but only the quantiles are used.
 */
export class LatencySummaries implements ExecutionObserver {
  private readonly summaries: { request: Summary; queue: Summary; input: Summary; infer: Summary; output: Summary };

  constructor(registry: Registry, quantiles: readonly Quantile[]) {
    const summary = (name: string, help: string) =>
      new Summary({
        name,
        help,
        labelNames: LABELS,
        percentiles: quantiles.map((q) => q.quantile),
        maxAgeSeconds: MAX_AGE_SECONDS,
        ageBuckets: AGE_BUCKETS,
        registers: [registry],
      });
    this.summaries = {
      request: summary('nv_inference_request_summary_us', 'Summary of inference request duration in microseconds (includes cached requests)'),
      queue: summary('nv_inference_queue_summary_us', 'Summary of inference queuing duration in microseconds (includes cached requests)'),
      input: summary('nv_inference_compute_input_summary_us', 'Summary of compute input duration in microseconds (does not include cached requests)'),
      infer: summary('nv_inference_compute_infer_summary_us', 'Summary of compute inference duration in microseconds (does not include cached requests)'),
      output: summary('nv_inference_compute_output_summary_us', 'Summary of compute output duration in microseconds (does not include cached requests)'),
    };
  }

  onExecution(event: ExecutionEvent): void {
    const labels = { model: event.model, version: String(event.version) };
    const s = this.summaries;
    for (const request of event.requests) {
      if (!request.answered) continue;
      s.request.observe(labels, us(event.end - request.receivedAt));
      s.queue.observe(labels, us(event.dispatchAt - request.enqueuedAt));
      s.input.observe(labels, us(event.computeStart - event.dispatchAt));
      s.infer.observe(labels, us(event.computeEnd - event.computeStart));
      s.output.observe(labels, us(event.end - event.computeEnd));
    }
  }

  /** Drops the series of a version that is gone. */
  forgetVersion(model: string, version: number): void {
    for (const summary of Object.values(this.summaries)) summary.remove({ model, version: String(version) });
  }
}

function us(ms: number): number {
  return Math.max(0, Math.round(ms * 1000));
}
