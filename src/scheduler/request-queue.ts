import { InferError } from '../core/errors.js';
import { requestLogPrefix } from '../core/infer-request.js';
import type { DynamicBatchingPolicy, QueueBounds, QueuePolicy } from '../core/batching-policy.js';
import type { Candidate } from './batch-former.js';
import { IndexedHeap, type HeapSlot } from './indexed-heap.js';
import { LinkedList, type Linked } from './linked-list.js';
import type { PendingRequest } from './pending-request.js';

interface Level {
  readonly number: number;
  readonly policy: QueuePolicy;
  /** Requests queued at this level, every variant, delayed ones included (max_queue_size counts them). */
  size: number;
  readonly lanes: Lane[];
}

/** The requests of one variant at one level: in arrival order, then those a DELAY timeout moved back. */
interface Lane {
  readonly level: Level;
  readonly waiting: LinkedList<Entry>;
  readonly delayed: LinkedList<Entry>;
}

/** One variant's lanes, ordered by level (level 1 first). */
interface VariantLanes {
  readonly lanes: Lane[];
  readonly byLevel: Map<number, Lane>;
  size: number;
}

interface Entry extends Candidate, Linked<Entry>, HeapSlot {
  readonly pending: PendingRequest;
  readonly variant: string;
  readonly lane: Lane;
  /** ms since the epoch after which the queue policy applies; Infinity = never. */
  readonly deadline: number;
  /** Its place in its list: the arrival number while waiting, then its place among the delayed. */
  rank: number;
}

/**
 * The dynamic batcher's queue, with Triton's priority levels and queue policies. Level 1 is
 * served first; a request's `priority` of 0, or above the level count, means the default
 * level. Each level has its policy: a max size (a full level rejects at once), a default
 * timeout a request may only lower, and what a timeout does (REJECT fails the request,
 * DELAY moves it behind everything of its level that has not timed out).
 *
 * Requests are kept per model variant and level in linked lists, and the timeouts in a
 * heap, so no operation walks the queue: push, remove and each expired request cost O(1)
 * plus O(log n) in the heap, and a batch is read from the head of its variant's lanes
 * (one per priority level in use), visiting only the requests it considers. `steps`
 * counts that work. Single owner: only its DynamicBatcher calls it, on the main thread.
 */
export class RequestQueue {
  private readonly levels = new Map<number, Level>();
  private readonly variants = new Map<string, VariantLanes>();
  private readonly byRequest = new Map<PendingRequest, Entry>();
  /** Waiting requests that have a timeout, soonest first (arrival breaks ties). */
  private readonly timeouts = new IndexedHeap<Entry>((a, b) => {
    this.work += 1;
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.rank < b.rank);
  });
  private arrivals = 0;
  private delays = 0;
  private work = 0;
  private queuedBytes = 0;

  /** `bounds` apply where the policy sets no max_queue_size, and to the bytes queued. */
  constructor(
    private readonly policy: DynamicBatchingPolicy,
    private readonly bounds: QueueBounds = { maxQueueSize: 0, maxQueueBytes: 0 },
  ) {}

  get size(): number {
    return this.byRequest.size;
  }

  /**
   * Entries, lanes and heap slots the queue has visited since it was made: the work its
   * operations did. Tests read it to show that no operation's cost grows with the queue.
   */
  get steps(): number {
    return this.work;
  }

  /** The level a request priority maps to. */
  levelOf(priority: number): number {
    if (this.policy.priorityLevels === 0) return 0;
    return priority === 0 || priority > this.policy.priorityLevels ? this.policy.defaultPriorityLevel : priority;
  }

  /** Bytes of the queued requests' messages. */
  get bytes(): number {
    return this.queuedBytes;
  }

  /**
   * Queues a request; throws QUEUE_FULL when its level is at max_queue_size (or the
   * server's bound when that is 0), or when its bytes would pass the bytes bound.
   */
  push(pending: PendingRequest): void {
    const level = this.level(this.levelOf(pending.request.priority));
    const { defaultTimeoutUs, allowTimeoutOverride } = level.policy;
    const maxQueueSize = level.policy.maxQueueSize || this.bounds.maxQueueSize;
    if (maxQueueSize > 0 && level.size >= maxQueueSize) {
      throw new InferError('QUEUE_FULL', `${requestLogPrefix(pending.request.request.id)}Exceeds maximum queue size`);
    }
    checkQueueBytes(pending, this.queuedBytes, this.size, this.bounds);
    // 0 means "no timeout"; a request's own timeout may only make the wait shorter.
    let timeoutUs = defaultTimeoutUs;
    const asked = pending.request.timeoutUs;
    if (allowTimeoutOverride && asked !== undefined && asked > 0 && (timeoutUs === 0 || asked < timeoutUs)) timeoutUs = asked;
    const variant = pending.request.variant;
    const entry: Entry = {
      pending,
      variant,
      lane: this.lane(level, variant),
      size: pending.request.batchSize,
      shapeKey: pending.shapeKey,
      enqueuedAt: pending.enqueuedAt,
      deadline: timeoutUs > 0 ? pending.enqueuedAt + timeoutUs / 1000 : Infinity,
      rank: this.arrivals++,
      prev: undefined,
      next: undefined,
      list: undefined,
      heapIndex: -1,
    };
    this.work += 1;
    entry.lane.waiting.push(entry);
    if (entry.deadline !== Infinity) this.timeouts.push(entry);
    level.size += 1;
    this.variants.get(variant)!.size += 1;
    this.byRequest.set(pending, entry);
    this.queuedBytes += pending.bytes;
  }

  /** Removes a request (cancelled, or taken into a batch); does nothing if it is not queued. */
  remove(pending: PendingRequest): void {
    const entry = this.byRequest.get(pending);
    if (entry !== undefined) this.unlink(entry);
  }

  /**
   * The variants with queued requests, in the order of their first request in the queue
   * (see `ordered`): each forms its own batches, so one precision never cuts another's.
   */
  queuedVariants(): string[] {
    const heads: Entry[] = [];
    for (const lanes of this.variants.values()) {
      this.work += 1;
      if (lanes.size === 0) continue;
      for (const entry of this.inOrder(lanes)) {
        heads.push(entry);
        break;
      }
    }
    return heads.sort((a, b) => (this.precedes(a, b) ? -1 : 1)).map((entry) => entry.variant);
  }

  /** A variant's queued requests in the order batches take them, read lazily from the head. */
  candidates(variant: string): Iterable<Candidate> {
    const lanes = this.variants.get(variant);
    return lanes === undefined ? [] : this.inOrder(lanes);
  }

  /** Removes and returns the first `count` requests of `variant`, in batch order. */
  take(variant: string, count: number): PendingRequest[] {
    const taken: PendingRequest[] = [];
    const lanes = this.variants.get(variant);
    if (lanes === undefined) return taken;
    for (const entry of this.inOrder(lanes)) {
      this.unlink(entry);
      taken.push(entry.pending);
      if (taken.length === count) break;
    }
    return taken;
  }

  /**
   * Every queued request in the order batches take them: by level, then arrival, delayed
   * ones last in their level (variants interleaved). Walks the whole queue: for stop and tests.
   */
  ordered(): PendingRequest[] {
    const out: PendingRequest[] = [];
    const byRank = (a: Entry, b: Entry) => a.rank - b.rank;
    for (const number of [...this.levels.keys()].sort((a, b) => a - b)) {
      const lanes = this.levels.get(number)!.lanes;
      for (const list of ['waiting', 'delayed'] as const) {
        const entries = lanes.flatMap((lane) => [...lane[list]]).sort(byRank);
        for (const entry of entries) out.push(entry.pending);
      }
    }
    return out;
  }

  /**
   * Applies the queue policies at `now`: returns the requests whose timeout expired under
   * REJECT (removed; the caller fails them), moves DELAY ones back, and gives the next
   * instant a policy will act (Infinity when none). Visits only the expired requests.
   */
  expire(now: number): { rejected: PendingRequest[]; next: number } {
    const expired: Entry[] = [];
    for (let top = this.timeouts.peek(); top !== undefined && top.deadline <= now; top = this.timeouts.peek()) {
      this.timeouts.pop();
      expired.push(top);
    }
    // Those expiring together act in queue order (level, then arrival), not deadline order.
    expired.sort((a, b) => a.lane.level.number - b.lane.level.number || a.rank - b.rank);
    const rejected: PendingRequest[] = [];
    for (const entry of expired) {
      this.work += 1;
      if (entry.lane.level.policy.timeoutAction === 'reject') {
        this.unlink(entry);
        rejected.push(entry.pending);
      } else {
        entry.lane.waiting.remove(entry);
        entry.rank = this.delays++;
        entry.lane.delayed.push(entry);
      }
    }
    return { rejected, next: this.timeouts.peek()?.deadline ?? Infinity };
  }

  /** A variant's entries in batch order: its lanes by level, each waiting then delayed. */
  private *inOrder(lanes: VariantLanes): Generator<Entry> {
    for (const lane of lanes.lanes) {
      this.work += 1;
      for (const list of [lane.waiting, lane.delayed]) {
        for (const entry of list) {
          this.work += 1;
          yield entry;
        }
      }
    }
  }

  /** Whether `a` comes before `b` in the queue (see `ordered`). */
  private precedes(a: Entry, b: Entry): boolean {
    if (a.lane.level.number !== b.lane.level.number) return a.lane.level.number < b.lane.level.number;
    const aDelayed = a.list === a.lane.delayed;
    const bDelayed = b.list === b.lane.delayed;
    if (aDelayed !== bDelayed) return bDelayed;
    return a.rank < b.rank;
  }

  private unlink(entry: Entry): void {
    this.work += 1;
    if (!entry.lane.waiting.remove(entry)) entry.lane.delayed.remove(entry);
    this.timeouts.remove(entry);
    entry.lane.level.size -= 1;
    this.variants.get(entry.variant)!.size -= 1;
    this.byRequest.delete(entry.pending);
    this.queuedBytes -= entry.pending.bytes;
  }

  private level(number: number): Level {
    let level = this.levels.get(number);
    if (level === undefined) {
      const policy = this.policy.priorityQueuePolicy.get(number) ?? this.policy.defaultQueuePolicy;
      level = { number, policy, size: 0, lanes: [] };
      this.levels.set(number, level);
    }
    return level;
  }

  /** The lane of `variant` at `level`, made on first use; lanes stay, so there are at most levels × variants. */
  private lane(level: Level, variant: string): Lane {
    let lanes = this.variants.get(variant);
    if (lanes === undefined) {
      lanes = { lanes: [], byLevel: new Map(), size: 0 };
      this.variants.set(variant, lanes);
    }
    let lane = lanes.byLevel.get(level.number);
    if (lane === undefined) {
      lane = { level, waiting: new LinkedList(), delayed: new LinkedList() };
      lanes.byLevel.set(level.number, lane);
      lanes.lanes.push(lane);
      lanes.lanes.sort((a, b) => a.level.number - b.level.number);
      level.lanes.push(lane);
    }
    return lane;
  }
}

/**
 * Throws QUEUE_FULL when queuing `pending` would take the queue's bytes past the bound
 * (Triton's message, then the figures). A queue holding nothing takes any request, so
 * every request the message size limit lets through can be served.
 */
export function checkQueueBytes(pending: PendingRequest, queuedBytes: number, queued: number, bounds: QueueBounds): void {
  const max = bounds.maxQueueBytes;
  if (max === 0 || queued === 0 || queuedBytes + pending.bytes <= max) return;
  throw new InferError(
    'QUEUE_FULL',
    `${requestLogPrefix(pending.request.request.id)}Exceeds maximum queue size: ${queuedBytes} bytes of requests queued, and this one has ${pending.bytes}; the most is ${max} (--max-queue-bytes)`,
  );
}
