import { quote, quoteList } from './client-text.js';
import { elementByteSize } from './data-type.js';
import { InferError } from './errors.js';
import { requestLogPrefix, type InferRequest, type RequestTensor } from './infer-request.js';
import type { ModelInfo, TensorSpec } from './model-info.js';
import { FP32_ONLY, isPrecision, PRECISIONS, type Precision, type Variant } from './precision.js';
import { readSequenceFlags, type SequenceFlags } from './sequence.js';
import { formatShape, type Tensor } from './tensor.js';

/** An input that passed validation, with the shape the model itself will see. */
export interface ValidatedInput {
  readonly tensor: Tensor;
  /** Batch dim (when batching) + config reshape or request dims. */
  readonly modelShape: readonly number[];
}

/** A request checked against its model; what the scheduler works with. */
export interface ValidatedRequest {
  readonly request: InferRequest;
  readonly model: ModelInfo;
  /** Items in the request: its first dim when the model batches, else 1. */
  readonly batchSize: number;
  /** Inputs in the model's input order. */
  readonly inputs: readonly ValidatedInput[];
  /** Outputs to return, in response order: as requested, or all in model order. */
  readonly outputNames: readonly string[];
  /** Request parameter `priority` (0 = the model's default level). */
  readonly priority: number;
  /** Request parameter `timeout` in microseconds, if given. */
  readonly timeoutUs: number | undefined;
  /** The precision that runs it: parameter `precision`, implied by FP16 inputs, or the model's default. */
  readonly precision: Precision;
  /** The model variant that runs it (fp16-io when FP16 tensors stand for FP32 inputs). */
  readonly variant: Variant;
  /** `sequence_id`, `sequence_start` and `sequence_end`; only sequence models act on them. */
  readonly sequence: SequenceFlags;
  /** `triton_enable_empty_final_response`: a decoupled model's final flag travels as an empty response. */
  readonly emptyFinalResponse: boolean;
}

/** The `[request id: ...] ` prefix of a validation message, made on demand. */
type LogPrefix = () => string;

const INT64_MAX = (1n << 63n) - 1n;
const ALLOWED_TRITON_PARAMETERS = ['triton_enable_empty_final_response'];
const BATCH_NOTE =
  'NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each ' +
  'input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting ' +
  'max_batch_size to zero. See the model configuration docs for more info on max_batch_size.';

/**
 * Checks a request against the model the way Triton's core does, in the same order and
 * with the same messages, so that clients matching on them keep working: requested
 * outputs, input count, batch dimension, max batch size, then per input its datatype,
 * shape and byte size. Where Triton is silent or quirky (batch 0, BYTES lengths running
 * past the data, duplicate names) the message here is explicit instead.
 * Pure function; throws InferError on the first problem.
 */
export function validateInferRequest(request: InferRequest, model: ModelInfo): ValidatedRequest {
  // Built only when a check fails: most requests pass, and the prefix clips the client's id.
  const log: LogPrefix = () => requestLogPrefix(request.id);
  const { priority, timeoutUs, sequence, emptyFinalResponse } = checkParameters(request);
  const inputsByName = indexInputs(request, log);
  const outputNames = resolveOutputs(request, model, log);
  checkInputCount(request, model, inputsByName, log, 'count');
  for (const tensor of request.inputs) findSpec(model.inputs, tensor.name, model.name);
  checkInputCount(request, model, inputsByName, log, 'names');
  const batchSize = resolveBatchSize(request, model, log);
  const { precision, variant } = resolvePrecision(request, model, log);
  const inputs: ValidatedInput[] = [];
  for (const spec of model.inputs) {
    const tensor = inputsByName.get(spec.name);
    if (tensor === undefined) continue;
    const halved = variant === 'fp16-io' && spec.datatype === 'FP32';
    const note = halved ? ' (FP16 inputs select the fp16 form of the model, which takes every FP32 input as FP16)' : '';
    inputs.push(validateInput(tensor, halved ? { ...spec, datatype: 'FP16' } : spec, model, log, note));
  }
  return {
    request,
    model,
    batchSize: model.maxBatchSize > 0 ? batchSize : 1,
    inputs,
    outputNames,
    priority,
    timeoutUs,
    precision,
    variant,
    sequence,
    emptyFinalResponse,
  };
}

/**
 * The precision and variant of a request. Parameter `precision` (a string) picks one of
 * the served precisions; without it, FP16 tensors sent for FP32 inputs imply fp16 (when
 * the model has the fp16-io form), else the model's default applies.
 */
function resolvePrecision(request: InferRequest, model: ModelInfo, log: LogPrefix): { precision: Precision; variant: Variant } {
  const choice = model.precision ?? FP32_ONLY;
  const parameter = request.parameters.get('precision');
  if (parameter !== undefined && parameter.kind !== 'string') {
    throw new InferError('PARAMETER_INVALID', "invalid value type for 'precision' parameter, expected string_param.");
  }
  const asked = parameter?.value;
  if (asked === undefined && !choice.fp16Io) return { precision: choice.defaultPrecision, variant: choice.defaultPrecision };
  const available = `Available: ${choice.served.join(', ')}`;
  if (asked !== undefined && !isPrecision(asked)) {
    throw new InferError('PRECISION_UNAVAILABLE', `${log()}unknown precision ${quote(asked)} (precisions are ${PRECISIONS.join(', ')}). ${available}`);
  }
  if (asked !== undefined && !choice.served.includes(asked)) {
    const reason = choice.unavailable.get(asked);
    const why = reason !== undefined ? `: ${reason}` : ` (its config does not list it in precision_variants)`;
    throw new InferError('PRECISION_UNAVAILABLE', `${log()}precision '${asked}' is not served by model '${model.name}'${why}. ${available}`);
  }
  const fp16Inputs = choice.fp16Io ? model.inputs.filter((spec) => spec.datatype === 'FP32' && request.inputs.some((t) => t.name === spec.name && t.datatype === 'FP16')) : [];
  if (fp16Inputs.length === 0) {
    const precision = asked ?? choice.defaultPrecision;
    return { precision, variant: precision };
  }
  if (asked !== undefined && asked !== 'fp16') {
    throw new InferError(
      'INPUT_DATATYPE',
      `${log()}inference input '${fp16Inputs[0]!.name}' data-type is 'FP16', which only the fp16 variant of model '${model.name}' takes, ` +
        `but the request asks for precision '${asked}'; send 'FP32' data for it`,
    );
  }
  return { precision: 'fp16', variant: 'fp16-io' };
}

/**
 * Reserved keys, and the scheduling parameters tritonclient sends: `priority` as
 * uint64_param (or int64_param), `timeout` as int64_param in microseconds, the sequence
 * parameters, and `triton_enable_empty_final_response` as bool_param.
 */
function checkParameters(request: InferRequest): {
  priority: number;
  timeoutUs: number | undefined;
  sequence: SequenceFlags;
  emptyFinalResponse: boolean;
} {
  for (const key of request.parameters.keys()) {
    if (key.startsWith('triton_') && !ALLOWED_TRITON_PARAMETERS.includes(key)) {
      throw new InferError(
        'PARAMETER_INVALID',
        "parameter keys starting with 'triton_' are reserved for Triton usage. Only the following keys starting with " +
          `'triton_' are allowed: ${ALLOWED_TRITON_PARAMETERS.join(' ')}`,
      );
    }
  }
  const priority = request.parameters.get('priority');
  if (priority !== undefined && priority.kind !== 'int64' && priority.kind !== 'uint64') {
    throw new InferError('PARAMETER_INVALID', "invalid value type for 'priority' parameter, expected int64_param or uint64_param.");
  }
  const timeout = request.parameters.get('timeout');
  if (timeout !== undefined && timeout.kind !== 'int64') {
    throw new InferError('PARAMETER_INVALID', "invalid value type for 'timeout' parameter, expected int64_param.");
  }
  const sequence = readSequenceFlags(request.parameters);
  const emptyFinal = request.parameters.get('triton_enable_empty_final_response');
  if (emptyFinal !== undefined && emptyFinal.kind !== 'bool') {
    throw new InferError('PARAMETER_INVALID', "invalid value type for 'triton_enable_empty_final_response' parameter, expected bool_param.");
  }
  const level = priority?.value ?? 0n;
  const micros = timeout?.value;
  if (level < 0n) throw new InferError('PARAMETER_INVALID', `'priority' must not be negative, got ${level}`);
  if (micros !== undefined && micros < 0n) throw new InferError('PARAMETER_INVALID', `'timeout' must not be negative, got ${micros}`);
  // A level above the model's count means "default", so clamping huge values loses nothing.
  return {
    priority: level > 2n ** 31n ? 2 ** 31 : Number(level),
    timeoutUs: micros === undefined ? undefined : Number(micros),
    sequence,
    emptyFinalResponse: emptyFinal?.value === true,
  };
}

function resolveOutputs(request: InferRequest, model: ModelInfo, log: LogPrefix): string[] {
  if (request.outputs.length === 0) return model.outputs.map((o) => o.name);
  const seen = new Set<string>();
  for (const output of request.outputs) {
    if (seen.has(output.name)) {
      throw new InferError('OUTPUT_UNEXPECTED', `${log()}output ${quote(output.name)} already exists in request`);
    }
    seen.add(output.name);
  }
  // Triton checks requested names in sorted order, so the first unknown name reported is the same.
  for (const name of [...seen].sort()) {
    if (!model.outputs.some((o) => o.name === name)) {
      throw new InferError('OUTPUT_UNEXPECTED', `unexpected inference output ${quote(name)} for model '${model.name}'`);
    }
  }
  return request.outputs.map((o) => o.name);
}

function indexInputs(request: InferRequest, log: LogPrefix): Map<string, RequestTensor> {
  const byName = new Map<string, RequestTensor>();
  for (const tensor of request.inputs) {
    if (byName.has(tensor.name)) {
      throw new InferError('INPUT_UNEXPECTED', `${log()}input ${quote(tensor.name)} already exists in request`);
    }
    byName.set(tensor.name, tensor);
  }
  return byName;
}

/**
 * Triton's input-count check, and its message. With `names`, also fails when the count is
 * fine but a required input is absent (an optional one in its place): Triton leaves that
 * to the backend, and ONNX Runtime would fail with an internal error.
 */
function checkInputCount(request: InferRequest, model: ModelInfo, byName: Map<string, RequestTensor>, log: LogPrefix, names: 'count' | 'names'): void {
  const got = request.inputs.length;
  let requiredCount = 0;
  let absentCount = 0;
  for (const input of model.inputs) {
    if (input.optional) continue;
    requiredCount += 1;
    if (!byName.has(input.name)) absentCount += 1;
  }
  if (got <= model.inputs.length && got >= requiredCount && (names === 'count' || absentCount === 0)) return;
  const required = model.inputs.filter((i) => !i.optional);
  const absent = required.filter((i) => !byName.has(i.name)).map((i) => i.name);
  const given = quoteList(request.inputs.map((t) => t.name));
  const missing = quoteList(absent);
  const expected =
    required.length === model.inputs.length
      ? `expected ${model.inputs.length} inputs`
      : `expected number of inputs between ${required.length} and ${model.inputs.length}`;
  throw new InferError(
    'INPUT_MISSING',
    `${log()}${expected} but got ${got} inputs for model '${model.name}'. Got input(s) ${given}, but missing required ` +
      `input(s) ${missing}. Please provide all required input(s).`,
  );
}

function findSpec(specs: readonly TensorSpec[], name: string, model: string): TensorSpec {
  const spec = specs.find((s) => s.name === name);
  if (spec === undefined) throw new InferError('INPUT_UNEXPECTED', `unexpected inference input ${quote(name)} for model '${model}'`);
  return spec;
}

function resolveBatchSize(request: InferRequest, model: ModelInfo, log: LogPrefix): number {
  if (model.maxBatchSize === 0) return 0;
  let batch: number | undefined;
  for (const tensor of request.inputs) {
    const first = tensor.shape[0];
    if (first === undefined) {
      throw new InferError(
        'INPUT_BATCH',
        `${log()}input ${quote(tensor.name)} has no shape but model requires batch dimension for '${model.name}'`,
      );
    }
    if (batch === undefined) batch = first;
    else if (first !== batch) {
      throw new InferError('INPUT_BATCH', `${log()}input ${quote(tensor.name)} batch size does not match other inputs for '${model.name}'`);
    }
  }
  const size = batch ?? 0;
  if (size > model.maxBatchSize) {
    throw new InferError('INPUT_BATCH', `${log()}inference request batch-size must be <= ${model.maxBatchSize} for '${model.name}'`);
  }
  if (size < 1) {
    throw new InferError('INPUT_BATCH', `${log()}inference request batch-size must be >= 1 for '${model.name}'`);
  }
  return size;
}

function validateInput(input: RequestTensor, spec: TensorSpec, model: ModelInfo, log: LogPrefix, note: string): ValidatedInput {
  if (input.datatype !== spec.datatype) {
    throw new InferError(
      'INPUT_DATATYPE',
      `${log()}inference input ${quote(input.name)} data-type is '${input.datatype}', but model '${model.name}' expects '${spec.datatype}'${note}`,
    );
  }
  const tensor: Tensor = { ...input, datatype: spec.datatype };
  const batching = model.maxBatchSize > 0;
  const dims = batching ? tensor.shape.slice(1) : tensor.shape;
  checkShape(tensor, dims, spec, model, log);
  checkByteSize(tensor, log, model.name);
  const modelDims = spec.reshape ?? dims;
  return { tensor, modelShape: batching ? [tensor.shape[0] ?? 0, ...modelDims] : [...modelDims] };
}

function checkShape(tensor: Tensor, dims: readonly number[], spec: TensorSpec, model: ModelInfo, log: LogPrefix): void {
  let mismatch = dims.length !== spec.dims.length;
  for (let i = 0; !mismatch && i < dims.length; i++) {
    const got = dims[i]!;
    if (got === -1) {
      throw new InferError(
        'INPUT_SHAPE',
        `${log()}All input dimensions should be specified for input ${quote(tensor.name)} for model '${model.name}', got ${formatShape(tensor.shape)}`,
      );
    }
    const want = spec.dims[i]!;
    if (want !== -1 && want !== got) mismatch = true;
  }
  if (!mismatch) {
    // A negative dim can only pass the comparison against a -1 config dim.
    if (tensor.shape.some((d) => d < 0)) {
      const where = tensor.datatype === 'BYTES' ? 'in shape ' : '';
      throw new InferError('INPUT_SHAPE', `tensor ${quote(tensor.name)} contains an invalid dimension ${where}${formatShape(tensor.shape)}`);
    }
    return;
  }
  const expected = model.maxBatchSize > 0 ? [-1, ...spec.dims] : spec.dims;
  throw new InferError(
    'INPUT_SHAPE',
    `${log()}unexpected shape for input ${quote(tensor.name)} for model '${model.name}'. Expected ${formatShape(expected)}, ` +
      `got ${formatShape(tensor.shape)}. ${model.maxBatchSize > 0 ? BATCH_NOTE : ''}`,
  );
}

function checkByteSize(tensor: Tensor, log: LogPrefix, modelName: string): void {
  let count = 1n;
  for (const dim of tensor.shape) count *= BigInt(dim);
  if (tensor.datatype === 'BYTES') {
    checkBytesElements(tensor, count, log, modelName);
    return;
  }
  const expected = count * BigInt(elementByteSize(tensor.datatype));
  if (expected > INT64_MAX) {
    throw new InferError('INPUT_SHAPE', `byte size for tensor ${quote(tensor.name)} exceeds maximum size of ${INT64_MAX}`);
  }
  if (expected !== BigInt(tensor.data.byteLength)) {
    throw new InferError(
      'INPUT_BYTE_SIZE',
      `${log()}input byte size mismatch for input ${quote(tensor.name)} for model '${modelName}'. Expected ${expected}, got ${tensor.data.byteLength}`,
    );
  }
}

function checkBytesElements(tensor: Tensor, count: bigint, log: LogPrefix, modelName: string): void {
  if (count > INT64_MAX) {
    throw new InferError('INPUT_SHAPE', `element count for tensor ${quote(tensor.name)} exceeds maximum size of ${INT64_MAX}`);
  }
  const data = tensor.data;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  let seen = 0n;
  while (offset < data.byteLength) {
    const left = data.byteLength - offset;
    if (left < 4) {
      throw new InferError(
        'INPUT_CONTENTS',
        `${log()}incomplete string length indicator for inference input ${quote(tensor.name)} for model '${modelName}', ` +
          `expecting 4 bytes but only ${left} bytes available. Please make sure the string length indicator is in one buffer.`,
      );
    }
    const length = view.getUint32(offset, true);
    seen += 1n;
    if (seen > count) {
      throw new InferError(
        'INPUT_BYTE_SIZE',
        `${log()}unexpected number of string elements ${seen} for inference input ${quote(tensor.name)} for model '${modelName}', expecting ${count}`,
      );
    }
    if (length > left - 4) {
      throw new InferError(
        'INPUT_CONTENTS',
        `${log()}string element ${seen - 1n} of inference input ${quote(tensor.name)} for model '${modelName}' declares ` +
          `${length} bytes but only ${left - 4} bytes follow its length indicator`,
      );
    }
    offset += 4 + length;
  }
  if (seen !== count) {
    throw new InferError(
      'INPUT_BYTE_SIZE',
      `${log()}expected ${count} string elements for inference input ${quote(tensor.name)} for model '${modelName}', got ${seen}`,
    );
  }
}
