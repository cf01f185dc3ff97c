import { quote } from '../../core/client-text.js';
import { elementCount } from '../../core/tensor.js';
import { isDataType } from '../../core/data-type.js';
import { InferError } from '../../core/errors.js';
import { nowMs } from '../../core/execution.js';
import { INVALID_DATATYPE, type InferRequest, type ParameterValue, type RequestedOutput, type RequestTensor } from '../../core/infer-request.js';
import { limitError, MAX_TENSOR_RANK, type RequestLimits } from '../../core/request-limits.js';
import type { RequestTrace } from '../../core/telemetry.js';
import type { SystemSharedMemory } from '../../shm/system-shared-memory.js';
import { shmPlace } from '../common/shm-tensors.js';
import { elementsToBytes, flattenData, inputLabel } from './json-tensors.js';

/** How the response sends each output: binary after the JSON, or JSON `data`. */
export interface OutputForms {
  /** `binary_data_output` on the request: the form of outputs that do not say. */
  readonly binaryByDefault: boolean;
  /** `binary_data` on a requested output. */
  readonly binary: ReadonlyMap<string, boolean>;
}

/** An HTTP inference request decoded: the core request and how its outputs go back. */
export interface DecodedHttpRequest {
  readonly request: InferRequest;
  readonly forms: OutputForms;
}

type Json = Record<string, unknown>;

/** Where a request's parts come from, besides its JSON. */
export interface HttpRequestSource {
  readonly modelName: string;
  readonly modelVersion: string;
  /** The whole (decompressed) body: the JSON header, then the binary tensors. */
  readonly body: Buffer;
  /** Bytes of the JSON header at the start of the body. */
  readonly headerLength: number;
  readonly limits: RequestLimits;
  readonly trace?: RequestTrace | undefined;
  readonly shm: SystemSharedMemory;
}

/**
 * KServe v2 JSON inference request (with Triton's binary tensor data extension) -> core
 * InferRequest. The model and version come from the URL. Each input has exactly one of
 * `data` (JSON, flat or nested), `parameters.binary_data_size` (its bytes follow the JSON
 * header, in the order of the inputs; views over the body, no copy) or
 * `parameters.shared_memory_region`. The binary extension's own parameters
 * (`binary_data_size`, `binary_data`, `binary_data_output`) are consumed here; every other
 * parameter reaches the core typed as over gRPC (integers int64, other numbers double).
 * Request limits apply as to gRPC messages. Texts follow Triton's HTTP frontend.
 */
export function decodeHttpInferRequest(header: unknown, source: HttpRequestSource): DecodedHttpRequest {
  const { modelName, limits } = source;
  if (!isObject(header)) throw malformed('the request JSON must be an object');
  const id = header['id'];
  if (id !== undefined && typeof id !== 'string') throw malformed("Unable to parse 'id'");
  if (id !== undefined) checkName(id, 'the request id', limits);
  const requestParameters = parameters(header['parameters'], 'the request', limits);
  const binaryOutput = requestParameters.get('binary_data_output');
  requestParameters.delete('binary_data_output');
  if (binaryOutput !== undefined && binaryOutput.kind !== 'bool') throw malformed("Unable to parse 'binary_data_output'");
  const inputsJson = header['inputs'];
  if (!Array.isArray(inputsJson)) throw malformed("Unable to parse 'inputs'");
  checkCount(inputsJson.length, 'the request has', 'inputs', limits);
  let offset = source.headerLength;
  const inputs: RequestTensor[] = inputsJson.map((input: unknown, index) => {
    if (!isObject(input)) throw malformed(`Unable to parse 'inputs': input ${index} is not an object`);
    const name = input['name'];
    if (typeof name !== 'string') throw malformed(`Unable to parse 'name' of input ${index}`);
    checkName(name, `the name of input ${index}`, limits);
    const datatype = input['datatype'];
    if (typeof datatype !== 'string') throw malformed(`Unable to parse 'datatype' of input ${quote(name)}`);
    checkName(datatype, `the datatype of input ${index}`, limits);
    const shape = shapeOf(input['shape'], name, limits);
    const tensorParameters = parameters(input['parameters'], `input ${quote(name)}`, limits);
    const binarySize = tensorParameters.get('binary_data_size');
    tensorParameters.delete('binary_data_size');
    const hasData = 'data' in input;
    const usesShm = tensorParameters.has('shared_memory_region');
    const set = [hasData && "'data'", binarySize !== undefined && "'binary_data_size'", usesShm && "'shared_memory_region'"].filter(Boolean);
    if (set.length !== 1) {
      throw new InferError(
        'INPUT_CONTENTS',
        "Input must set only one of the following fields: 'data', 'binary_data_size' in 'parameters', 'shared_memory_region' in 'parameters'. But" +
          (set.length === 0 ? ' no field is set' : ` set ${set.join(' ')}`),
      );
    }
    let data: Uint8Array;
    const type = isDataType(datatype) ? datatype : undefined;
    if (binarySize !== undefined) {
      if (binarySize.kind !== 'int64' || binarySize.value < 0n) throw malformed(`Unable to parse 'binary_data_size' of input ${quote(name)}`);
      const size = Number(binarySize.value);
      if (offset + size > source.body.length) {
        throw new InferError('INPUT_BYTE_SIZE', `unexpected size for input ${quote(name)}, expecting ${offset + size - source.body.length} additional bytes for model ${quote(modelName)}`);
      }
      data = source.body.subarray(offset, offset + size);
      offset += size;
    } else if (usesShm) {
      const place = shmPlace(name, tensorParameters)!;
      data = source.shm.read(place.region, place.offset, place.byteSize);
    } else {
      if (type === undefined) throw new InferError('INPUT_DATATYPE', `invalid datatype for input ${quote(name)}`);
      const elements = flattenData(input['data'], limits.maxTypedElements);
      if (elements === undefined) {
        throw limitError(`the 'data' of ${inputLabel(name, modelName)} has more than ${limits.maxTypedElements} elements, the most this server takes`, 'maxTypedElements');
      }
      const expected = elementCount(shape);
      if (elements.length !== expected) {
        throw new InferError(
          'INPUT_SHAPE',
          `unable to parse 'data' of ${inputLabel(name, modelName)}: its shape ${JSON.stringify(shape)} has ${expected} elements, 'data' has ${elements.length}`,
        );
      }
      data = elementsToBytes(type, elements, inputLabel(name, modelName));
    }
    if (type === 'BYTES') checkBytesElements(data, name, modelName, limits);
    return { name, datatype: type ?? INVALID_DATATYPE, shape, data };
  });
  if (offset !== source.body.length) throw new InferError('INPUT_CONTENTS', `unexpected additional input data for model ${quote(modelName)}`);
  const outputsJson = header['outputs'] ?? [];
  if (!Array.isArray(outputsJson)) throw malformed("Unable to parse 'outputs'");
  checkCount(outputsJson.length, 'the request asks for', 'outputs', limits);
  const binary = new Map<string, boolean>();
  const outputs: RequestedOutput[] = outputsJson.map((output: unknown, index) => {
    if (!isObject(output) || typeof output['name'] !== 'string') throw malformed(`Unable to parse 'name' of output ${index}`);
    const name = output['name'];
    checkName(name, `the name of output ${index}`, limits);
    const outputParameters = parameters(output['parameters'], `output ${quote(name)}`, limits);
    const wantsBinary = outputParameters.get('binary_data');
    outputParameters.delete('binary_data');
    if (wantsBinary !== undefined) {
      if (wantsBinary.kind !== 'bool') throw malformed(`Unable to parse 'binary_data' of output ${quote(name)}`);
      if (wantsBinary.value && outputParameters.has('shared_memory_region')) {
        throw new InferError('PARAMETER_INVALID', "Output can't set both 'shared_memory_region' and 'binary_data'");
      }
      binary.set(name, wantsBinary.value);
    }
    return { name, parameters: outputParameters };
  });
  return {
    request: {
      receivedAt: nowMs(),
      ...(source.trace !== undefined ? { trace: source.trace } : {}),
      messageBytes: source.body.length,
      id: id ?? '',
      modelName,
      modelVersion: source.modelVersion,
      inputs,
      outputs,
      parameters: requestParameters,
    },
    forms: { binaryByDefault: binaryOutput?.value === true, binary },
  };
}

/** JSON parameters -> core values: bool, int64 (uint64 past int64), double, string; anything else is Triton's error. */
function parameters(value: unknown, owner: string, limits: RequestLimits): Map<string, ParameterValue> {
  const out = new Map<string, ParameterValue>();
  if (value === undefined) return out;
  if (!isObject(value)) throw malformed(`Unable to parse 'parameters' of ${owner}`);
  const entries = Object.entries(value);
  checkCount(entries.length, `${owner} has`, 'parameters', limits);
  for (const [key, v] of entries) {
    checkName(key, `a parameter key of ${owner}`, limits);
    if (typeof v === 'boolean') out.set(key, { kind: 'bool', value: v });
    else if (typeof v === 'string') out.set(key, { kind: 'string', value: v });
    else if (typeof v === 'number' && Number.isInteger(v)) {
      const big = BigInt(v);
      out.set(key, big > (1n << 63n) - 1n ? { kind: 'uint64', value: big } : { kind: 'int64', value: big });
    } else if (typeof v === 'number') out.set(key, { kind: 'double', value: v });
    else throw new InferError('PARAMETER_INVALID', `parameter ${quote(key)} has invalid type. It should be either 'int', 'bool', or 'string'.`);
  }
  return out;
}

function shapeOf(value: unknown, name: string, limits: RequestLimits): number[] {
  if (!Array.isArray(value) || !value.every((d) => typeof d === 'number' && Number.isInteger(d))) {
    throw malformed(`Unable to parse 'shape' of input ${quote(name)}`);
  }
  if (value.length > MAX_TENSOR_RANK) throw limitError(`input ${quote(name)} has ${value.length} dims; a tensor has at most ${MAX_TENSOR_RANK}`, 'maxTensorElements');
  const shape = value as number[];
  const count = elementCount(shape.map((d) => Math.abs(d)));
  if (count < 0 || count > limits.maxTensorElements) {
    throw limitError(`input ${quote(name)} has a shape of ${count < 0 ? 'more than 2^53' : count} elements; this server takes at most ${limits.maxTensorElements}`, 'maxTensorElements');
  }
  return shape;
}

function checkBytesElements(data: Uint8Array, name: string, model: string, limits: RequestLimits): void {
  for (let offset = 0, index = 0; offset + 4 <= data.length; index++) {
    const length = (data[offset]! | (data[offset + 1]! << 8) | (data[offset + 2]! << 16) | (data[offset + 3]! << 24)) >>> 0;
    if (length > limits.maxBytesElementBytes) {
      throw limitError(`BYTES element ${index} of ${inputLabel(name, model)} is ${length} bytes long; this server takes at most ${limits.maxBytesElementBytes}`, 'maxBytesElementBytes');
    }
    offset += 4 + length;
  }
}

function checkName(text: string, what: string, limits: RequestLimits): void {
  const length = Buffer.byteLength(text);
  if (length > limits.maxNameBytes) throw limitError(`${what} is ${length} bytes long; this server takes at most ${limits.maxNameBytes}`, 'maxNameBytes');
}

function checkCount(count: number, what: string, noun: string, limits: RequestLimits): void {
  if (count > limits.maxInputs) throw limitError(`${what} more than ${limits.maxInputs} ${noun}, the most this server takes`, 'maxInputs');
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function malformed(message: string): InferError {
  return new InferError('REQUEST_MALFORMED', message);
}
