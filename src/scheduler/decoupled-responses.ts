import { InferError } from '../core/errors.js';
import type { BufferTensor, DecoupledResponse } from '../core/execution.js';
import type { InferResponse } from '../core/infer-request.js';
import { sliceOutput } from './output-slice.js';
import type { PendingRequest } from './pending-request.js';

/**
 * Routes the responses of a decoupled execution to its requests: response i of the
 * backend goes to entry i, with the outputs that request asked for, in its order. An
 * error response fails its request; index -1 (its instance died) fails every request
 * still waiting. Responses for a request that already settled (cancelled) are dropped.
 * Main thread only.
 */
export function decoupledResponses(entries: readonly PendingRequest[]): (response: DecoupledResponse) => void {
  return (response) => {
    if (response.index < 0) {
      const error = new InferError(response.error?.id ?? 'INTERNAL', response.error?.message ?? 'the model stopped sending responses');
      for (const entry of entries) entry.fail(error);
      return;
    }
    const entry = entries[response.index];
    if (entry === undefined) return;
    if (response.error !== undefined) {
      entry.fail(new InferError(response.error.id, response.error.message));
      return;
    }
    entry.respond(response.outputs === undefined ? undefined : toResponse(entry, response.outputs), response.final);
  };
}

function toResponse(entry: PendingRequest, outputs: readonly BufferTensor[]): InferResponse {
  const { request, model, batchSize } = entry.request;
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const tensors = entry.request.outputNames.flatMap((name) => {
    const output = byName.get(name);
    return output === undefined ? [] : [sliceOutput(model, output, 0, batchSize, batchSize)];
  });
  return { id: request.id, modelName: model.name, modelVersion: String(model.version), outputs: tensors };
}
