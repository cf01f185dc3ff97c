import type { CancelSignal } from '../core/cancel-signal.js';
import { InferError } from '../core/errors.js';
import type { ExecutorPool } from '../core/execution.js';
import type { DynamicBatchingPolicy, QueueBounds } from '../core/batching-policy.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import { Batch } from './batch.js';
import { decideBatch } from './batch-former.js';
import type { BatchRunner } from './batch-runner.js';
import type { Clock } from './clock.js';
import { abortReason, PendingRequest } from './pending-request.js';
import { PumpLoop } from './pump-loop.js';
import { RequestQueue } from './request-queue.js';
import { ResponseOrder } from './response-order.js';
import type { Scheduler } from './scheduler.js';
import { WakeTimer } from './wake-timer.js';
import type { StatisticsRecorder } from './statistics-recorder.js';

/**
 * Triton's dynamic batcher. Decides what goes in a batch (batch-former.ts) from its own
 * priority queue (request-queue.ts); which instance runs it is the pool's business. It
 * forms a batch only when an instance is idle, so while all instances are busy requests
 * gather and the next batch is as large as the queue allows; it never waits out
 * max_queue_delay while an instance is idle and a preferred batch is queued. Requests of
 * different model variants (precisions) never share a batch: each variant's requests form
 * batches among themselves, by Triton's rules, so interleaved precisions do not cut each
 * other's batches short. Sole owner of its queue and timer. Main thread only.
 *
 * No event walks the queue (an overloaded server holds tens of thousands of requests): an
 * enqueue or an abort costs O(1) plus O(log n) for timeouts, and a batch costs its size
 * (see request-queue.ts). While every instance is busy no batch is formed at all, since it
 * could not be sent; the next idle instance triggers the next decision.
 */
export class DynamicBatcher implements Scheduler {
  private readonly queue: RequestQueue;
  private readonly order: ResponseOrder | undefined;
  private readonly tickets = new WeakMap<PendingRequest, number>();
  /** acquire() found no idle instance, and the pool has not said one is idle since. */
  private instancesBusy = false;
  private readonly pumpLoop = new PumpLoop(() => this.dispatch());
  /** Wakes the pump for the earliest delay end, timeout or idle end. */
  private readonly timer: WakeTimer;
  private stopped = false;

  constructor(
    private readonly pool: ExecutorPool,
    private readonly runner: BatchRunner,
    private readonly policy: DynamicBatchingPolicy,
    private readonly stats: StatisticsRecorder,
    private readonly clock: Clock,
    bounds?: QueueBounds,
  ) {
    this.timer = new WakeTimer(clock, () => this.pump());
    this.queue = new RequestQueue(policy, bounds);
    this.order = policy.preserveOrdering ? new ResponseOrder() : undefined;
    pool.onIdle(() => {
      this.instancesBusy = false;
      this.pump();
    });
  }

  enqueue(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse> {
    if (this.stopped) return Promise.reject(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      // With preserve_ordering, a request gets its place in line when it enters a batch
      // (as in Triton); refusals before that (queue full, timeout, cancel) answer at once.
      const ordered = <T>(settle: (value: T) => void): ((value: T) => void) =>
        this.order === undefined
          ? settle
          : (value: T) => {
              const ticket = this.tickets.get(pending);
              if (ticket === undefined) settle(value);
              else this.order!.release(ticket, () => settle(value));
            };
      const pending: PendingRequest = new PendingRequest({
        request,
        signal,
        sink,
        clock: this.clock,
        resolve: ordered(resolve),
        reject: ordered(reject),
        onAbort: (p) => {
          this.queue.remove(p);
          this.pump();
        },
        onFailed: (p, err) => this.stats.recordFailure(p, err, this.clock.now()),
      });
      try {
        this.queue.push(pending);
      } catch (err) {
        pending.fail(InferError.from(err));
        return;
      }
      this.pump();
    });
  }

  pending(): number {
    return this.queue.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer.clear();
    for (const pending of this.queue.ordered()) {
      this.queue.remove(pending);
      pending.fail(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    }
    await this.runner.whenIdle();
  }

  /** Applies queue policies, then dispatches batches while instances are idle; a call during a pass asks for another ({@link PumpLoop}). */
  private pump(): void {
    this.pumpLoop.run();
  }

  private dispatch(): void {
    const now = this.clock.now();
    const { rejected, next } = this.queue.expire(now);
    for (const pending of rejected) pending.fail(new InferError('QUEUE_TIMEOUT', 'Request timeout expired'));
    let wakeAt = next;
    let sending = !this.instancesBusy;
    while (sending) {
      sending = false;
      // Each model variant (precision) forms its own batches, in the order its oldest request
      // queued, so a stream of one precision never cuts the batches of another.
      for (const variant of this.queue.queuedVariants()) {
        const decision = decideBatch(this.queue.candidates(variant), this.policy, now);
        if (decision === undefined) continue;
        if (decision.kind === 'wait') {
          wakeAt = Math.min(wakeAt, decision.until);
          continue;
        }
        const executor = this.pool.acquire();
        if (executor === undefined) {
          this.instancesBusy = true;
          break;
        }
        const entries = this.queue.take(variant, decision.count);
        if (this.order !== undefined) for (const entry of entries) this.tickets.set(entry, this.order.issue());
        void this.runner.run(executor, new Batch(entries));
        sending = true;
        break;
      }
    }
    this.timer.arm(wakeAt);
  }

}
