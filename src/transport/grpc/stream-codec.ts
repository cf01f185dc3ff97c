import type { InferError } from '../../core/errors.js';
import type { InferResponse } from '../../core/infer-request.js';
import type { InferParameter, ModelInferRequest, ModelStreamInferResponse } from '../../generated/grpc_service.js';
import { encodeInferResponse } from './infer-codec.js';
import { statusMessage } from './status.js';

/** Triton's response parameter telling a stream client whether more responses of a request follow. */
export const FINAL_RESPONSE_PARAMETER = 'triton_final_response';

function finalFlag(final: boolean): { [key: string]: InferParameter } {
  return { [FINAL_RESPONSE_PARAMETER]: { parameterChoice: { $case: 'boolParam', value: final } } };
}

/**
 * A response of a stream, as Triton's stream handler writes it: `infer_response` with the
 * request's id, and `triton_final_response` true on a request's last response (always,
 * for a model that is not decoupled).
 */
export function streamResponse(response: InferResponse, final: boolean): ModelStreamInferResponse {
  return { errorMessage: '', inferResponse: { ...encodeInferResponse(response), parameters: finalFlag(final) } };
}

/**
 * A decoupled request's final flag with no response of its own, sent only when the
 * request asked for it (`triton_enable_empty_final_response`): no outputs, the request's
 * id, model and version as sent, and `triton_final_response` true.
 */
export function emptyFinalResponse(request: ModelInferRequest): ModelStreamInferResponse {
  return {
    errorMessage: '',
    inferResponse: { id: request.id, modelName: request.modelName, modelVersion: request.modelVersion, parameters: finalFlag(true), outputs: [], rawOutputContents: [] },
  };
}

/**
 * A failed request of a stream: `error_message` with the error's text (bounded like a
 * status message) and `infer_response` holding only the request's id, so the client can
 * tell which request failed. The stream stays open.
 */
export function streamError(request: ModelInferRequest, error: InferError): ModelStreamInferResponse {
  return {
    errorMessage: statusMessage(error.message),
    inferResponse: { id: request.id, modelName: '', modelVersion: '', parameters: {}, outputs: [], rawOutputContents: [] },
  };
}

/** Roughly the bytes a stream response takes once encoded (its tensors plus headers), for the unsent-bytes bound. */
export function responseBytes(response: ModelStreamInferResponse): number {
  let bytes = 64 + response.errorMessage.length;
  for (const raw of response.inferResponse?.rawOutputContents ?? []) bytes += raw.byteLength + 8;
  return bytes;
}
