import type { CancelSignal } from '../core/cancel-signal.js';
import { InferError } from '../core/errors.js';
import type { InstanceSet } from '../core/execution.js';
import type { InferResponse, ResponseSink } from '../core/infer-request.js';
import type { Logger } from '../core/logger.js';
import type { ValidatedRequest } from '../core/request-validation.js';
import { correlationKey, formatCorrelationId, type CorrelationId } from '../core/sequence.js';
import type { SequenceBatchingPolicy } from '../core/sequence-policy.js';
import type { BatchRunner } from './batch-runner.js';
import type { Clock } from './clock.js';
import { checkCorrelationId } from './control-tensors.js';
import { DirectLane } from './direct-lane.js';
import { IndexedHeap } from './indexed-heap.js';
import { OldestLane } from './oldest-lane.js';
import { abortReason, PendingRequest } from './pending-request.js';
import { PumpLoop } from './pump-loop.js';
import type { Scheduler } from './scheduler.js';
import { WakeTimer } from './wake-timer.js';
import { Sequence, type QueuedRequest } from './sequence.js';
import { SequenceBatch, type SequenceRow } from './sequence-batch.js';
import type { RowKey, SequenceLane } from './sequence-lane.js';
import { SequenceSlots } from './sequence-slots.js';
import type { StatisticsRecorder } from './statistics-recorder.js';

/** Why later requests of a sequence ended by its instance's failure are refused, until the ID starts again. */
interface Tombstone {
  readonly message: string;
  readonly until: number;
}

/**
 * Triton's sequence batcher. Requests carry a correlation ID and START/END flags; each
 * sequence holds a batch slot of one instance from START to its end (sequence-slots.ts),
 * or waits in the backlog while every slot is taken, and runs one request at a time, in
 * order. Each instance forms its own batches with the configured strategy (direct-lane.ts,
 * oldest-lane.ts); the batches add the control tensors and implicit state the model
 * expects (sequence-batch.ts). A sequence ends at END, after max_sequence_idle without a
 * request, when one of its requests is cancelled (its queued requests fail with the same
 * reason), or when its instance fails (its requests fail, and later ones are told why).
 *
 * Sole owner of its sequences, slots and timer. Enqueue, cancel and the idle check cost
 * O(1) plus O(log n) in heaps; forming a batch reads one instance's slots or offers, never
 * every queued request. Main thread only.
 */
export class SequenceBatcher implements Scheduler {
  /** Sequences that accept requests without START, by correlation key. */
  private readonly active = new Map<string, Sequence>();
  /** Every sequence holding a slot or waiting for one. */
  private readonly live = new Set<Sequence>();
  private readonly slots: SequenceSlots;
  private readonly lanes: SequenceLane[];
  /** Instances whose batch is running (from dispatch until its sequences have moved on). */
  private readonly running: boolean[];
  /** Active sequences by the instant they go idle. */
  private readonly idle = new IndexedHeap<Sequence>((a, b) => a.idleAt < b.idleAt);
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly rowKey: RowKey;
  private readonly idleMs: number;
  private queued = 0;
  private readonly pumpLoop = new PumpLoop(() => this.dispatch());
  /** Wakes the pump for the earliest delay end, timeout or idle end. */
  private readonly timer: WakeTimer;
  private stopped = false;

  constructor(
    private readonly modelName: string,
    private readonly pool: InstanceSet,
    private readonly runner: BatchRunner,
    private readonly policy: SequenceBatchingPolicy,
    private readonly stats: StatisticsRecorder,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {
    this.timer = new WakeTimer(clock, () => this.pump());
    this.idleMs = policy.maxSequenceIdleUs / 1000;
    this.slots = new SequenceSlots(pool.instanceCount, policy.slotsPerInstance);
    // Fixed state dims never keep rows apart, so only variable ones cost a state lookup.
    const variableStates = policy.states.some((s) => s.dims.includes(-1)) ? policy.states : [];
    this.rowKey = (sequence, request) => sequence.rowKey(request, variableStates);
    this.lanes = this.slots.byInstance.map((slots) =>
      policy.strategy === 'direct' ? new DirectLane(slots, policy, this.rowKey) : new OldestLane(policy, this.rowKey),
    );
    this.running = this.lanes.map(() => false);
    pool.onIdle(() => this.pump());
    pool.onInstanceFailed((index, name) => this.instanceFailed(index, name));
  }

  enqueue(request: ValidatedRequest, signal: CancelSignal, sink?: ResponseSink): Promise<InferResponse> {
    try {
      if (this.stopped) throw new InferError('SERVER_STOPPING', 'the model is being unloaded');
      if (signal.aborted) throw abortReason(signal);
      return this.accept(request, signal, sink);
    } catch (err) {
      return Promise.reject(InferError.from(err));
    }
  }

  pending(): number {
    return this.queued;
  }

  /** Sequences holding a slot or waiting for one (for tests and the memory figures). */
  get sequences(): number {
    return this.live.size;
  }

  /** Bytes of implicit state the live sequences hold. */
  get stateBytes(): number {
    let bytes = 0;
    for (const sequence of this.live) for (const value of sequence.state?.values() ?? []) bytes += value.data.byteLength;
    return bytes;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer.clear();
    const stopping = new InferError('SERVER_STOPPING', 'the model is being unloaded');
    for (const sequence of [...this.live]) this.abort(sequence, stopping);
    await this.runner.whenIdle();
  }

  /** Triton's checks, in Triton's order, then the request joins its sequence. */
  private accept(request: ValidatedRequest, signal: CancelSignal, sink: ResponseSink | undefined): Promise<InferResponse> {
    const model = request.model.name;
    if (request.batchSize > 1) {
      throw new InferError('SEQUENCE_BATCH_SIZE', `inference request to model '${model}' must specify batch-size 1 due to requirements of sequence batcher`);
    }
    const { id, start, end } = request.sequence;
    if (id === undefined) {
      throw new InferError('SEQUENCE_ID_MISSING', `inference request to model '${model}' must specify a non-zero or non-empty correlation ID`);
    }
    checkCorrelationId(this.policy.controls, id, model);
    const now = this.clock.now();
    const key = correlationKey(id);
    let sequence = this.active.get(key);
    if (!start && sequence === undefined) {
      const tombstone = this.tombstone(key, now);
      if (tombstone !== undefined) throw new InferError('SEQUENCE_ABORTED', tombstone.message);
      throw new InferError(
        'SEQUENCE_NOT_STARTED',
        `inference request for sequence ${formatCorrelationId(id)} to model '${model}' must specify the START flag on the first request of the sequence`,
      );
    }
    if (start && sequence !== undefined) {
      // Triton continues in the same slot; the START request resets the implicit state.
      this.logger.warn(
        { model, sequence: formatCorrelationId(id) },
        `sequence ${formatCorrelationId(id)} for model '${model}' has a conflict. The previous sequence did not end before this sequence start. Previous sequence will be terminated early.`,
      );
    }
    if (sequence === undefined) sequence = this.open(id);
    const target = sequence;
    return new Promise((resolve, reject) => {
      const pending = new PendingRequest({
        request,
        signal,
        sink,
        clock: this.clock,
        resolve,
        reject,
        onAbort: (p) => this.abort(target, abortReason(p.signal)),
        onFailed: (p, err) => this.stats.recordFailure(p, err, this.clock.now()),
      });
      const entry: QueuedRequest = { pending, start, end, prev: undefined, next: undefined, list: undefined };
      target.queue.push(entry);
      this.queued += 1;
      if (end) this.close(target);
      else this.touch(target, now);
      if (target.slot !== undefined && target.running === undefined) this.lanes[target.slot.instance]!.ready(target, now);
      this.pump();
    });
  }

  /** A new sequence: a free slot, or the backlog. */
  private open(id: CorrelationId): Sequence {
    const sequence = new Sequence(id);
    this.tombstones.delete(sequence.key);
    this.active.set(sequence.key, sequence);
    this.live.add(sequence);
    this.slots.assign(sequence);
    return sequence;
  }

  /** Restarts a sequence's idle clock. */
  private touch(sequence: Sequence, now: number): void {
    this.idle.remove(sequence);
    sequence.idleAt = now + this.idleMs;
    this.idle.push(sequence);
  }

  /** No more requests join `sequence` without START; those it holds still run. */
  private close(sequence: Sequence): void {
    if (!sequence.open) return;
    sequence.open = false;
    if (this.active.get(sequence.key) === sequence) this.active.delete(sequence.key);
    this.idle.remove(sequence);
  }

  /**
   * Ends `sequence` early: its queued requests fail with `reason` (a request already
   * running finishes, its result dropped if it was the one cancelled), and it leaves
   * its slot once nothing of it runs.
   */
  private abort(sequence: Sequence, reason: InferError): void {
    if (sequence.aborted) return;
    sequence.aborted = true;
    this.close(sequence);
    for (let entry = sequence.queue.shift(); entry !== undefined; entry = sequence.queue.shift()) {
      this.queued -= 1;
      entry.pending.fail(reason);
    }
    if (sequence.running === undefined) this.retire(sequence);
    this.pump();
  }

  /** Frees what `sequence` holds: its slot (to the oldest backlogged sequence), its state. */
  private retire(sequence: Sequence): void {
    if (!this.live.delete(sequence)) return;
    const slot = sequence.slot;
    if (slot !== undefined) this.lanes[slot.instance]!.forget(sequence);
    sequence.state = undefined;
    const next = this.slots.release(sequence);
    if (next !== undefined && next.head !== undefined) this.lanes[slot!.instance]!.ready(next, this.clock.now());
  }

  /** Ends every sequence of a failed instance; later requests of them learn why. */
  private instanceFailed(index: number, name: string): void {
    const now = this.clock.now();
    for (const slot of this.slots.byInstance[index] ?? []) {
      const sequence = slot.sequence;
      if (sequence === undefined || sequence.aborted) continue;
      const message =
        `sequence ${formatCorrelationId(sequence.id)} of model '${this.modelName}' was ended because model instance '${name}' failed; ` +
        'start it again with sequence_start';
      if (sequence.open) this.tombstones.set(sequence.key, { message, until: now + this.idleMs });
      this.logger.error({ instance: name, sequence: formatCorrelationId(sequence.id) }, 'sequence ended: its model instance failed');
      this.abort(sequence, new InferError('SEQUENCE_ABORTED', message));
    }
  }

  /** The live tombstone of `key`, dropping those past their time (oldest first, so this stays cheap). */
  private tombstone(key: string, now: number): Tombstone | undefined {
    for (const [k, t] of this.tombstones) {
      if (t.until > now) break;
      this.tombstones.delete(k);
    }
    return this.tombstones.get(key);
  }

  /** Ends idle sequences, then sends a batch to every free instance that has one; a call during a pass asks for another ({@link PumpLoop}). */
  private pump(): void {
    this.pumpLoop.run();
  }

  private dispatch(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.expireIdle(now);
    let wakeAt = this.idle.peek()?.idleAt ?? Infinity;
    for (let index = 0; index < this.lanes.length; index++) {
      if (this.running[index]) continue;
      // Still finishing an execution, or being replaced: its onIdle brings us back.
      if (!this.pool.isInstanceIdle(index)) continue;
      const decision = this.lanes[index]!.decide(now);
      if (decision === undefined) continue;
      if (decision.kind === 'wait') {
        wakeAt = Math.min(wakeAt, decision.until);
        continue;
      }
      const executor = this.pool.acquireInstance(index)!;
      const rows = decision.rows.map((sequence): SequenceRow | undefined => {
        if (sequence === undefined) return undefined;
        const request = sequence.queue.shift()!;
        this.queued -= 1;
        sequence.running = request;
        return { sequence, request };
      });
      this.running[index] = true;
      void this.runner.run(executor, new SequenceBatch(rows, this.policy)).then(() => this.finished(index, rows));
    }
    this.timer.arm(wakeAt);
  }

  /** After a batch: each sequence offers its next request, or ends. */
  private finished(index: number, rows: readonly (SequenceRow | undefined)[]): void {
    this.running[index] = false;
    const now = this.clock.now();
    for (const row of rows) {
      if (row === undefined) continue;
      const { sequence } = row;
      sequence.running = undefined;
      // END closed it when it arrived, so nothing can be queued behind it.
      if (sequence.aborted || (!sequence.open && sequence.queue.size === 0)) {
        this.retire(sequence);
        continue;
      }
      if (sequence.slot !== undefined && sequence.head !== undefined) this.lanes[sequence.slot.instance]!.ready(sequence, now);
    }
    this.pump();
  }

  /**
   * Closes sequences that had no request for max_sequence_idle; those with nothing queued
   * or running leave their slot now, the others once they have drained. A sequence still
   * in the backlog is looked at again later, as Triton does.
   */
  private expireIdle(now: number): void {
    for (let top = this.idle.peek(); top !== undefined && top.idleAt <= now; top = this.idle.peek()) {
      this.idle.pop();
      if (top.slot === undefined) {
        top.idleAt = now + this.idleMs;
        this.idle.push(top);
        continue;
      }
      this.logger.debug({ sequence: formatCorrelationId(top.id), idleUs: this.policy.maxSequenceIdleUs }, 'sequence idle: ended');
      this.close(top);
      if (top.running === undefined && top.queue.size === 0) this.retire(top);
    }
  }

}
