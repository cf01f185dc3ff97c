import type { InferError } from '../core/errors.js';
import { PRECISIONS, type Precision } from '../core/precision.js';
import type { BatchSizeStats, DurationStat, FailureReason, ModelStatisticsSnapshot, PrecisionStatistics } from '../core/statistics.js';
import type { PendingRequest } from './pending-request.js';

/** Instants of one execution, ms since the epoch (worker timestamps are on the same clock). */
export interface BatchTiming {
  /** The batch left the queue: assembly starts. */
  readonly dispatchAt: number;
  /** session.run started / ended in the worker. */
  readonly computeStart: number;
  readonly computeEnd: number;
  /** Outputs split and responses handed back. */
  readonly end: number;
  /** Main-thread time spent copying inputs in and splitting outputs (ms). */
  readonly mainThreadMs: number;
}

interface MutableDuration {
  count: number;
  ns: bigint;
  /**
   * Nanoseconds not yet folded into `ns`: whole numbers summed as a double, exact below
   * 2^53, so that a request's statistics cost no BigInt allocations (ten per request).
   */
  pendingNs: number;
}

/** pendingNs folds into ns before it could lose a nanosecond. */
const FOLD_AT_NS = 2 ** 52;

const REASONS: Readonly<Record<string, FailureReason>> = {
  QUEUE_FULL: 'REJECTED',
  QUEUE_TIMEOUT: 'REJECTED',
  SERVER_STOPPING: 'REJECTED',
  REQUEST_CANCELLED: 'CANCELED',
  DEADLINE_EXCEEDED: 'CANCELED',
  BACKEND_ERROR: 'BACKEND',
  INSTANCE_FAILED: 'BACKEND',
};

const zero = (): MutableDuration => ({ count: 0, ns: 0n, pendingNs: 0 });

interface PhaseTotals {
  inferenceCount: number;
  executionCount: number;
  readonly success: MutableDuration;
  readonly fail: MutableDuration;
  readonly queue: MutableDuration;
  readonly computeInput: MutableDuration;
  readonly computeInfer: MutableDuration;
  readonly computeOutput: MutableDuration;
}

const totals = (): PhaseTotals => ({
  inferenceCount: 0,
  executionCount: 0,
  success: zero(),
  fail: zero(),
  queue: zero(),
  computeInput: zero(),
  computeInfer: zero(),
  computeOutput: zero(),
});

/**
 * Owns one model version's statistics. Phases tile each request's time in the server:
 * queue (accepted -> batch leaves the queue), compute_input (assembly, hand-off to the
 * worker, until session.run starts), compute_infer (session.run), compute_output (outputs
 * back, split, responses built); success covers receipt to response. Every request of a
 * batch is charged the batch's compute phases, as in Triton. Main thread only.
 */
export class StatisticsRecorder {
  private lastInference = 0;
  private readonly all = totals();
  private readonly byPrecision = new Map<Precision, PhaseTotals>();
  private readonly batches = new Map<number, { input: MutableDuration; infer: MutableDuration; output: MutableDuration; main: MutableDuration; requests: number }>();
  private readonly failures: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };

  /**
   * One finished execution of `items` items at `precision`; `succeeded` are the requests
   * that got their response.
   */
  recordExecution(items: number, requests: number, succeeded: readonly PendingRequest[], timing: BatchTiming, wallClockMs: number, precision: Precision): void {
    const input = timing.computeStart - timing.dispatchAt;
    const infer = timing.computeEnd - timing.computeStart;
    const output = timing.end - timing.computeEnd;
    this.lastInference = wallClockMs;
    const scoped = this.precisionTotals(precision);
    let perSize = this.batches.get(items);
    if (perSize === undefined) {
      perSize = { input: zero(), infer: zero(), output: zero(), main: zero(), requests: 0 };
      this.batches.set(items, perSize);
    }
    add(perSize.input, input);
    add(perSize.infer, infer);
    add(perSize.output, output);
    add(perSize.main, timing.mainThreadMs);
    perSize.requests += requests;
    for (const t of [this.all, scoped]) {
      t.inferenceCount += items;
      t.executionCount += 1;
      for (const entry of succeeded) {
        add(t.success, timing.end - entry.receivedAt);
        add(t.queue, timing.dispatchAt - entry.enqueuedAt);
        add(t.computeInput, input);
        add(t.computeInfer, infer);
        add(t.computeOutput, output);
      }
    }
  }

  /** A request that failed anywhere after the scheduler accepted (or refused) it. */
  recordFailure(entry: PendingRequest, err: InferError, at: number): void {
    add(this.all.fail, at - entry.receivedAt);
    add(this.precisionTotals(entry.request.precision).fail, at - entry.receivedAt);
    this.failures[REASONS[err.id] ?? 'OTHER'] += 1;
  }

  private precisionTotals(precision: Precision): PhaseTotals {
    let t = this.byPrecision.get(precision);
    if (t === undefined) {
      t = totals();
      this.byPrecision.set(precision, t);
    }
    return t;
  }

  snapshot(): ModelStatisticsSnapshot {
    const copy = (d: MutableDuration): DurationStat => ({ count: d.count, ns: d.ns + BigInt(d.pendingNs) });
    const batches: BatchSizeStats[] = [...this.batches]
      .sort(([a], [b]) => a - b)
      .map(([batchSize, d]) => ({
        batchSize,
        computeInput: copy(d.input),
        computeInfer: copy(d.infer),
        computeOutput: copy(d.output),
        mainThread: copy(d.main),
        requests: d.requests,
      }));
    const phases = (t: PhaseTotals) => ({
      inferenceCount: t.inferenceCount,
      executionCount: t.executionCount,
      success: copy(t.success),
      fail: copy(t.fail),
      queue: copy(t.queue),
      computeInput: copy(t.computeInput),
      computeInfer: copy(t.computeInfer),
      computeOutput: copy(t.computeOutput),
    });
    const precisions: PrecisionStatistics[] = PRECISIONS.filter((p) => this.byPrecision.has(p)).map((precision) => ({
      precision,
      ...phases(this.byPrecision.get(precision)!),
    }));
    return { lastInference: this.lastInference, ...phases(this.all), batches, failures: { ...this.failures }, precisions };
  }
}

function add(d: MutableDuration, ms: number): void {
  d.count += 1;
  d.pendingNs += Math.max(0, Math.round(ms * 1e6));
  if (d.pendingNs >= FOLD_AT_NS) {
    d.ns += BigInt(d.pendingNs);
    d.pendingNs = 0;
  }
}
