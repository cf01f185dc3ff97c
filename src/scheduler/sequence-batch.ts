import { InferError } from '../core/errors.js';
import type { BufferTensor, ExecutionRequest, ExecutionResult } from '../core/execution.js';
import type { ModelInfo } from '../core/model-info.js';
import type { SequenceBatchingPolicy } from '../core/sequence-policy.js';
import { elementCount, type Tensor } from '../core/tensor.js';
import { controlTensor, type ControlRow } from './control-tensors.js';
import { sliceOutput } from './output-slice.js';
import type { PendingRequest } from './pending-request.js';
import type { RunnableBatch } from './runnable-batch.js';
import type { QueuedRequest, Sequence } from './sequence.js';
import type { StateValue } from './sequence-state.js';
import type { StagingPool } from './staging-pool.js';

/** A row of a sequence batch: the sequence and the request of it that runs. */
export interface SequenceRow {
  readonly sequence: Sequence;
  readonly request: QueuedRequest;
}

const NOT_READY: ControlRow = { start: false, end: false, ready: false, corrid: undefined };

/**
 * One execution of a sequence model. Besides the requests' own inputs it feeds the
 * model what Triton's sequence batcher feeds it: the control tensors (START, END, READY,
 * CORRID) and each sequence's implicit state; padding rows (the direct strategy's empty
 * slots) get zeros and READY false. `complete` settles each request with its row of the
 * outputs and keeps each sequence's new state, copied out of the batch's output so the
 * state owns its memory. Main thread only.
 */
export class SequenceBatch implements RunnableBatch {
  readonly model: ModelInfo;
  readonly size: number;
  readonly entries: readonly PendingRequest[];
  private readonly first: SequenceRow;

  constructor(
    readonly rows: readonly (SequenceRow | undefined)[],
    private readonly policy: SequenceBatchingPolicy,
  ) {
    const real = rows.filter((row): row is SequenceRow => row !== undefined);
    if (real.length === 0) throw new InferError('INTERNAL', 'a sequence batch needs at least one request');
    this.first = real[0]!;
    this.model = this.first.request.pending.request.model;
    this.entries = real.map((row) => row.request.pending);
    this.size = real.length;
  }

  assemble(staging: StagingPool): ExecutionRequest {
    const batching = this.model.maxBatchSize > 0;
    const first = this.first.request.pending.request;
    const inputs: BufferTensor[] = first.inputs.map((input, index) => {
      const parts = this.rows.map((row) => row?.request.pending.request.inputs[index]!.tensor.data);
      const itemShape = batching ? input.modelShape.slice(1) : input.modelShape;
      const padding = input.tensor.datatype === 'BYTES' ? elementCount(itemShape) * 4 : input.tensor.data.byteLength;
      return this.stage(staging, input.tensor.name, input.tensor.datatype, batching ? [this.rows.length, ...itemShape] : [...itemShape], parts, padding);
    });
    const controls = this.rows.map((row): ControlRow =>
      row === undefined ? NOT_READY : { start: row.request.start, end: row.request.end, ready: true, corrid: row.sequence.id },
    );
    for (const control of this.policy.controls) {
      const { shape, data } = controlTensor(control, controls, batching);
      inputs.push({ name: control.name, datatype: control.datatype, shape, buffer: data.buffer as ArrayBuffer, byteOffset: 0, byteLength: data.byteLength });
    }
    const states = this.rows.map((row) => row?.sequence.stateFor(row.request, this.policy.states));
    const firstStates = states[this.rows.indexOf(this.first)]!;
    for (const spec of this.policy.states) {
      const like = firstStates.get(spec.inputName)!;
      const parts = states.map((s) => s?.get(spec.inputName)!.data);
      inputs.push(this.stage(staging, spec.inputName, spec.datatype, batching ? [this.rows.length, ...like.shape] : [...like.shape], parts, like.data.byteLength));
    }
    const wanted = new Set(this.entries.flatMap((e) => e.request.outputNames));
    const outputNames = this.model.outputs.map((o) => o.name).filter((name) => wanted.has(name));
    for (const spec of this.policy.states) if (!outputNames.includes(spec.outputName)) outputNames.push(spec.outputName);
    const traces = this.entries.flatMap((e) => (e.request.request.trace === undefined ? [] : [e.request.request.trace]));
    return { inputs, outputNames, variant: first.variant, traces };
  }

  complete(result: ExecutionResult): PendingRequest[] {
    const outputs = new Map(result.outputs.map((o) => [o.name, o]));
    const batching = this.model.maxBatchSize > 0;
    const count = this.rows.length;
    // New states first: each is copied out of the batch's output before anything else sees it.
    const updates = this.policy.states.map((spec) => {
      const output = outputs.get(spec.outputName);
      if (output === undefined) throw new InferError('BACKEND_ERROR', `model returned no state output '${spec.outputName}'`);
      return { spec, output };
    });
    this.rows.forEach((row, i) => {
      if (row === undefined || row.sequence.aborted) return;
      const next = new Map<string, StateValue>();
      for (const { spec, output } of updates) {
        const part = sliceOutput(this.model, output, i, 1, count);
        next.set(spec.inputName, { shape: batching ? output.shape.slice(1) : [...output.shape], data: part.data.slice() });
      }
      if (next.size > 0) row.sequence.state = next;
    });
    const answered: PendingRequest[] = [];
    this.rows.forEach((row, i) => {
      const entry = row?.request.pending;
      if (entry === undefined || entry.isSettled) return;
      const tensors: Tensor[] = entry.request.outputNames.map((name) => {
        const output = outputs.get(name);
        if (output === undefined) throw new InferError('BACKEND_ERROR', `model returned no output '${name}'`);
        return sliceOutput(this.model, output, i, 1, count);
      });
      const request = entry.request.request;
      entry.succeed({ id: request.id, modelName: this.model.name, modelVersion: String(this.model.version), outputs: tensors });
      answered.push(entry);
    });
    return answered;
  }

  fail(err: InferError): void {
    for (const entry of this.entries) entry.fail(err);
  }

  /** One input in a staging buffer: each row's bytes in turn, zeros (`padding` bytes) for padding rows. */
  private stage(
    staging: StagingPool,
    name: string,
    datatype: BufferTensor['datatype'],
    shape: number[],
    parts: readonly (Uint8Array | undefined)[],
    padding: number,
  ): BufferTensor {
    const byteLength = parts.reduce((sum, p) => sum + (p?.byteLength ?? padding), 0);
    const buffer = staging.take(byteLength);
    const target = new Uint8Array(buffer, 0, byteLength);
    let offset = 0;
    for (const part of parts) {
      if (part === undefined) {
        target.fill(0, offset, offset + padding);
        offset += padding;
      } else {
        target.set(part, offset);
        offset += part.byteLength;
      }
    }
    return { name, datatype, shape, buffer, byteOffset: 0, byteLength };
  }
}
