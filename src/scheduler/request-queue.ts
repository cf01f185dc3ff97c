import { InferError } from '../core/errors.js';
import { requestLogPrefix } from '../core/infer-request.js';
import type { DynamicBatchingPolicy, QueuePolicy } from '../core/batching-policy.js';
import type { PendingRequest } from './pending-request.js';

interface Entry {
  readonly pending: PendingRequest;
  /** ms since the epoch after which the queue policy applies; Infinity = never. */
  readonly deadline: number;
  delayed: boolean;
}

interface Level {
  readonly policy: QueuePolicy;
  /** Requests in arrival order, then (after them) those whose timeout moved them back. */
  readonly waiting: Entry[];
  readonly delayed: Entry[];
}

/**
 * The dynamic batcher's queue, with Triton's priority levels and queue policies. Level 1 is
 * served first; a request's `priority` of 0, or above the level count, means the default
 * level. Each level has its policy: a max size (a full level rejects at once), a default
 * timeout a request may only lower, and what a timeout does (REJECT fails the request,
 * DELAY moves it behind everything of its level that has not timed out). Single owner:
 * only its DynamicBatcher calls it, on the main thread.
 */
export class RequestQueue {
  private readonly levels = new Map<number, Level>();
  private readonly byRequest = new Map<PendingRequest, { level: Level; entry: Entry }>();

  constructor(private readonly policy: DynamicBatchingPolicy) {}

  get size(): number {
    return this.byRequest.size;
  }

  /** The level a request priority maps to. */
  levelOf(priority: number): number {
    if (this.policy.priorityLevels === 0) return 0;
    return priority === 0 || priority > this.policy.priorityLevels ? this.policy.defaultPriorityLevel : priority;
  }

  /** Queues a request; throws QUEUE_FULL when its level is at max_queue_size. */
  push(pending: PendingRequest): void {
    const number = this.levelOf(pending.request.priority);
    const level = this.level(number);
    const { maxQueueSize, defaultTimeoutUs, allowTimeoutOverride } = level.policy;
    if (maxQueueSize > 0 && level.waiting.length + level.delayed.length >= maxQueueSize) {
      throw new InferError('QUEUE_FULL', `${requestLogPrefix(pending.request.request.id)}Exceeds maximum queue size`);
    }
    // 0 means "no timeout"; a request's own timeout may only make the wait shorter.
    let timeoutUs = defaultTimeoutUs;
    const asked = pending.request.timeoutUs;
    if (allowTimeoutOverride && asked !== undefined && asked > 0 && (timeoutUs === 0 || asked < timeoutUs)) timeoutUs = asked;
    const entry: Entry = { pending, deadline: timeoutUs > 0 ? pending.enqueuedAt + timeoutUs / 1000 : Infinity, delayed: false };
    level.waiting.push(entry);
    this.byRequest.set(pending, { level, entry });
  }

  /** Removes a request (cancelled, or taken into a batch). */
  remove(pending: PendingRequest): void {
    const found = this.byRequest.get(pending);
    if (found === undefined) return;
    this.byRequest.delete(pending);
    const list = found.entry.delayed ? found.level.delayed : found.level.waiting;
    list.splice(list.indexOf(found.entry), 1);
  }

  /** Requests in the order batches take them: by level, then arrival, delayed ones last in their level. */
  ordered(): PendingRequest[] {
    const out: PendingRequest[] = [];
    for (const number of [...this.levels.keys()].sort((a, b) => a - b)) {
      const level = this.levels.get(number)!;
      for (const entry of level.waiting) out.push(entry.pending);
      for (const entry of level.delayed) out.push(entry.pending);
    }
    return out;
  }

  /**
   * Applies the queue policies at `now`: returns the requests whose timeout expired under
   * REJECT (removed; the caller fails them), moves DELAY ones back, and gives the next
   * instant a policy will act (Infinity when none).
   */
  expire(now: number): { rejected: PendingRequest[]; next: number } {
    const rejected: PendingRequest[] = [];
    let next = Infinity;
    for (const level of this.levels.values()) {
      for (const entry of [...level.waiting]) {
        if (entry.deadline > now) {
          next = Math.min(next, entry.deadline);
          continue;
        }
        if (level.policy.timeoutAction === 'reject') {
          this.remove(entry.pending);
          rejected.push(entry.pending);
        } else {
          level.waiting.splice(level.waiting.indexOf(entry), 1);
          entry.delayed = true;
          level.delayed.push(entry);
        }
      }
    }
    return { rejected, next };
  }

  private level(number: number): Level {
    let level = this.levels.get(number);
    if (level === undefined) {
      const policy = this.policy.priorityQueuePolicy.get(number) ?? this.policy.defaultQueuePolicy;
      level = { policy, waiting: [], delayed: [] };
      this.levels.set(number, level);
    }
    return level;
  }
}
