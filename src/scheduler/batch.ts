import type { BufferTensor, ExecutionRequest, ExecutionResult } from '../core/execution.js';
import { InferError } from '../core/errors.js';
import type { InferResponse } from '../core/infer-request.js';
import type { ModelInfo } from '../core/model-info.js';
import type { Tensor } from '../core/tensor.js';
import { decoupledResponses } from './decoupled-responses.js';
import { sliceOutput } from './output-slice.js';
import type { PendingRequest } from './pending-request.js';
import type { RunnableBatch } from './runnable-batch.js';
import type { StagingPool } from './staging-pool.js';

/**
 * Requests that run together in one model execution. `assemble` copies each request's
 * inputs once into pooled staging buffers (the only copy on the way in); `complete`
 * splits the outputs back into per-request views, in each request's output order. A
 * decoupled model's responses go to its requests as they come (decoupled-responses.ts).
 * All requests share the model's non-batch input shapes; the schedulers guarantee it.
 */
export class Batch implements RunnableBatch {
  readonly model: ModelInfo;
  /** Items across all requests (sum of batch sizes). */
  readonly size: number;

  constructor(readonly entries: readonly PendingRequest[]) {
    const first = entries[0];
    if (first === undefined) throw new InferError('INTERNAL', 'a batch needs at least one request');
    this.model = first.request.model;
    this.size = entries.reduce((sum, e) => sum + e.request.batchSize, 0);
  }

  /** Builds the execution: inputs in staging buffers taken from `staging`, outputs to fetch, the variant (shared by the batch). */
  assemble(staging: StagingPool): ExecutionRequest {
    const first = this.entries[0]!.request;
    const batching = this.model.maxBatchSize > 0;
    const inputs: BufferTensor[] = first.inputs.map((input, index) => {
      const parts = this.entries.map((e) => e.request.inputs[index]!.tensor.data);
      const byteLength = parts.reduce((sum, p) => sum + p.byteLength, 0);
      const buffer = staging.take(byteLength);
      const target = new Uint8Array(buffer);
      let offset = 0;
      for (const part of parts) {
        target.set(part, offset);
        offset += part.byteLength;
      }
      const shape = batching ? [this.size, ...input.modelShape.slice(1)] : [...input.modelShape];
      return { name: input.tensor.name, datatype: input.tensor.datatype, shape, buffer, byteOffset: 0, byteLength };
    });
    const wanted = new Set(this.entries.flatMap((e) => e.request.outputNames));
    const outputNames = this.model.outputs.map((o) => o.name).filter((name) => wanted.has(name));
    const traces = this.entries.flatMap((e) => (e.request.request.trace === undefined ? [] : [e.request.request.trace]));
    if (this.model.decoupled === true) return { inputs, outputNames, variant: first.variant, traces, onResponse: decoupledResponses(this.entries) };
    return { inputs, outputNames, variant: first.variant, traces };
  }

  /**
   * Settles every request that is still waiting with its share of the outputs; returns
   * those (a request cancelled while the batch ran is skipped, its result dropped).
   */
  complete(result: ExecutionResult): PendingRequest[] {
    // A decoupled model's requests settle with their final response, which may come later.
    if (this.model.decoupled === true) return this.entries.filter((entry) => !entry.isSettled);
    const outputs = new Map(result.outputs.map((o) => [o.name, o]));
    const waiting = this.entries.reduce((n, entry) => (entry.isSettled ? n : n + 1), 0);
    const release = outputRelease(result, waiting);
    const answered: PendingRequest[] = [];
    let start = 0;
    for (const entry of this.entries) {
      const count = entry.request.batchSize;
      if (!entry.isSettled) {
        const tensors = entry.request.outputNames.map((name) => {
          const output = outputs.get(name);
          if (output === undefined) throw new InferError('BACKEND_ERROR', `model returned no output '${name}'`);
          return sliceOutput(this.model, output, start, count, this.size);
        });
        entry.succeed(this.response(entry, tensors, release));
        answered.push(entry);
      }
      start += count;
    }
    return answered;
  }

  /** Fails every request that is still waiting. */
  fail(err: InferError): void {
    for (const entry of this.entries) entry.fail(err);
  }

  private response(entry: PendingRequest, outputs: Tensor[], release: (() => void) | undefined): InferResponse {
    const request = entry.request.request;
    const modelVersion = String(this.model.version);
    if (release === undefined) return { id: request.id, modelName: this.model.name, modelVersion, outputs };
    return { id: request.id, modelName: this.model.name, modelVersion, outputs, release };
  }
}

/**
 * The `release` shared by the `responses` responses of one execution: the last call gives
 * the output buffers back to the instance (ExecutionResult.giveBack). Undefined when the
 * result cannot be given back; with no response waiting, the buffers go back at once.
 */
function outputRelease(result: ExecutionResult, responses: number): (() => void) | undefined {
  const giveBack = result.giveBack;
  if (giveBack === undefined) return undefined;
  if (responses === 0) {
    giveBack();
    return undefined;
  }
  let remaining = responses;
  return () => {
    remaining -= 1;
    if (remaining === 0) giveBack();
  };
}
