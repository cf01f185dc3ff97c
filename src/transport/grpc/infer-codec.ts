import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import { nowMs } from '../../core/execution.js';
import { isDataType } from '../../core/data-type.js';
import type { RequestTrace } from '../../core/telemetry.js';
import { INVALID_DATATYPE, type InferRequest, type InferResponse, type ParameterValue, type RequestTensor } from '../../core/infer-request.js';
import type { InferParameter, ModelInferRequest, ModelInferResponse } from '../../generated/grpc_service.js';
import type { SystemSharedMemory } from '../../shm/system-shared-memory.js';
import { wireBytes } from './request-decoding.js';
import { shmPlace } from '../common/shm-tensors.js';
import { contentsToBytes } from './tensor-contents.js';

/**
 * ModelInferRequest -> core InferRequest. Raw input bytes stay views over the received
 * message (no copy); typed `contents` are converted once; an input whose parameters name
 * a shared memory region is read from it (one copy). `raw_input_contents[i]` pairs with
 * the i-th input that has neither `contents` nor shared memory, as in Triton, and raw and
 * typed contents cannot be mixed in one request. An unknown datatype string becomes
 * INVALID_DATATYPE, so validation reports it next to the model's expected type.
 */
export function decodeInferRequest(message: ModelInferRequest, trace?: RequestTrace, shm?: SystemSharedMemory): InferRequest {
  const raw = message.rawInputContents;
  let rawIndex = 0;
  const inputs: RequestTensor[] = message.inputs.map((input) => {
    let data: Uint8Array;
    const place = shmPlace(input.name, decodeParameters(input.parameters));
    if (place !== undefined) {
      if (input.contents !== undefined) {
        throw new InferError(
          'INPUT_CONTENTS',
          `unexpected 'content' provided when using shared memory for input tensor ${quote(input.name)} for model ${quote(message.modelName)}`,
        );
      }
      if (shm === undefined) throw new InferError('SHM_REGION_NOT_FOUND', `Unable to find shared memory region: ${quote(place.region)}`);
      data = shm.read(place.region, place.offset, place.byteSize);
    } else if (input.contents !== undefined) {
      if (raw.length > 0) {
        throw new InferError(
          'INPUT_CONTENTS',
          `contents field must not be specified when using raw_input_contents for ${quote(input.name)} for model ${quote(message.modelName)}`,
        );
      }
      data = contentsToBytes(input.contents, input.name, input.datatype, message.modelName);
    } else if (rawIndex < raw.length) {
      data = raw[rawIndex++]!;
    } else {
      throw new InferError(
        'INPUT_MISSING',
        `unable to find data for input tensor ${quote(input.name)} for model ${quote(message.modelName)} in request.`,
      );
    }
    return {
      name: input.name,
      datatype: isDataType(input.datatype) ? input.datatype : INVALID_DATATYPE,
      shape: input.shape.map(Number),
      data,
    };
  });
  if (rawIndex < raw.length) {
    throw new InferError(
      'INPUT_CONTENTS',
      `raw_input_contents has ${raw.length} entries but only ${rawIndex} inputs of model ${quote(message.modelName)} take raw data`,
    );
  }
  return {
    receivedAt: nowMs(),
    ...(trace !== undefined ? { trace } : {}),
    messageBytes: wireBytes(message),
    id: message.id,
    modelName: message.modelName,
    modelVersion: message.modelVersion,
    inputs,
    outputs: message.outputs.map((o) => ({ name: o.name, parameters: decodeParameters(o.parameters) })),
    parameters: decodeParameters(message.parameters),
  };
}

/** Core InferResponse -> ModelInferResponse: every output's bytes in raw_output_contents, in order. */
export function encodeInferResponse(response: InferResponse): ModelInferResponse {
  return {
    modelName: response.modelName,
    modelVersion: response.modelVersion,
    id: response.id,
    parameters: {},
    outputs: response.outputs.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(BigInt), parameters: {} })),
    rawOutputContents: response.outputs.map((o) => o.data),
  };
}

/** Shared by every message without parameters (most tensors): nothing writes to a decoded request. */
const NO_PARAMETERS: ReadonlyMap<string, ParameterValue> = new Map();

function decodeParameters(parameters: { [key: string]: InferParameter }): ReadonlyMap<string, ParameterValue> {
  let empty = true;
  for (const _ in parameters) {
    empty = false;
    break;
  }
  if (empty) return NO_PARAMETERS;
  const out = new Map<string, ParameterValue>();
  for (const [key, parameter] of Object.entries(parameters)) {
    const choice = parameter.parameterChoice;
    if (choice === undefined) continue;
    switch (choice.$case) {
      case 'boolParam':
        out.set(key, { kind: 'bool', value: choice.value });
        break;
      case 'int64Param':
        out.set(key, { kind: 'int64', value: choice.value });
        break;
      case 'uint64Param':
        out.set(key, { kind: 'uint64', value: choice.value });
        break;
      case 'doubleParam':
        out.set(key, { kind: 'double', value: choice.value });
        break;
      case 'stringParam':
        out.set(key, { kind: 'string', value: choice.value });
        break;
    }
  }
  return out;
}
