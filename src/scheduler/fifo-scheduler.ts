import type { CancelSignal } from '../core/cancel-signal.js';
import type { QueueBounds } from '../core/batching-policy.js';
import { InferError } from '../core/errors.js';
import { requestLogPrefix } from '../core/infer-request.js';
import type { ExecutorPool } from '../core/execution.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import { Batch } from './batch.js';
import type { BatchRunner } from './batch-runner.js';
import type { Clock } from './clock.js';
import { LinkedList, type Linked } from './linked-list.js';
import { abortReason, PendingRequest } from './pending-request.js';
import { checkQueueBytes } from './request-queue.js';
import type { Scheduler } from './scheduler.js';
import type { StatisticsRecorder } from './statistics-recorder.js';

interface Entry extends Linked<Entry> {
  readonly pending: PendingRequest;
}

/**
 * First in, first out, one request per execution: the scheduler for models without
 * dynamic batching (Triton's default scheduler). Sole owner of its queue. Whenever an
 * instance is idle the oldest live request goes to it; requests aborted while queued are
 * dropped without running, in O(1) (a linked list, not an array search). A full queue
 * (the server's --max-queue-size and --max-queue-bytes) refuses at once with QUEUE_FULL.
 */
export class FifoScheduler implements Scheduler {
  private readonly queue = new LinkedList<Entry>();
  private readonly entries = new Map<PendingRequest, Entry>();
  private stopped = false;
  private queuedBytes = 0;

  constructor(
    private readonly pool: ExecutorPool,
    private readonly runner: BatchRunner,
    private readonly stats: StatisticsRecorder,
    private readonly clock: Clock,
    private readonly bounds: QueueBounds = { maxQueueSize: 0, maxQueueBytes: 0 },
  ) {
    pool.onIdle(() => this.pump());
  }

  enqueue(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse> {
    if (this.stopped) return Promise.reject(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    if (signal.aborted) return Promise.reject(abortReason(signal));
    return new Promise((resolve, reject) => {
      const pending = new PendingRequest({
        request,
        signal,
        sink,
        clock: this.clock,
        resolve,
        reject,
        onAbort: (p) => this.remove(p),
        onFailed: (p, err) => this.stats.recordFailure(p, err, this.clock.now()),
      });
      try {
        const { maxQueueSize } = this.bounds;
        if (maxQueueSize > 0 && this.queue.size >= maxQueueSize) {
          throw new InferError('QUEUE_FULL', `${requestLogPrefix(request.request.id)}Exceeds maximum queue size`);
        }
        checkQueueBytes(pending, this.queuedBytes, this.queue.size, this.bounds);
      } catch (err) {
        pending.fail(InferError.from(err));
        return;
      }
      const entry: Entry = { pending, prev: undefined, next: undefined, list: undefined };
      this.queue.push(entry);
      this.entries.set(pending, entry);
      this.queuedBytes += pending.bytes;
      this.pump();
    });
  }

  pending(): number {
    return this.queue.size;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (let entry = this.queue.shift(); entry !== undefined; entry = this.queue.shift()) {
      this.entries.delete(entry.pending);
      this.queuedBytes -= entry.pending.bytes;
      entry.pending.fail(new InferError('SERVER_STOPPING', 'the model is being unloaded'));
    }
    await this.runner.whenIdle();
  }

  private remove(pending: PendingRequest): void {
    const entry = this.entries.get(pending);
    if (entry === undefined) return;
    this.entries.delete(pending);
    this.queue.remove(entry);
    this.queuedBytes -= pending.bytes;
  }

  private pump(): void {
    while (this.queue.size > 0) {
      const executor = this.pool.acquire();
      if (executor === undefined) return;
      const entry = this.queue.shift()!;
      this.entries.delete(entry.pending);
      this.queuedBytes -= entry.pending.bytes;
      void this.runner.run(executor, new Batch([entry.pending]));
    }
  }
}
