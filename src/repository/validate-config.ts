import {
  DataType,
  ModelInstanceGroup_Kind as Kind,
  type ModelConfig,
  type ModelInput,
  type ModelOutput,
} from '../generated/model_config.js';
import type { OnnxMetadata, OnnxTensorInfo } from '../onnx/onnx-metadata.js';
import { IDENTITY_BACKEND, ONNX_BACKEND, ONNX_PLATFORM, REPEAT_BACKEND } from './auto-complete.js';
import { configDataTypeName, toProtocolDataType } from './config-data-type.js';
import { ModelConfigError } from './config-error.js';
import { checkSequenceAgainstOnnx, checkSequenceBatching, sequenceControls, sequenceStates } from './sequence-config.js';

/**
 * Checks a normalized config on its own: what Nereid can serve, and Triton's structural
 * rules (non-negative max_batch_size, typed and shaped inputs/outputs, sane instance
 * groups and batching settings). Throws ModelConfigError naming the model and the field.
 */
export function validateModelConfig(config: ModelConfig): void {
  const fail = (message: string): never => {
    throw new ModelConfigError(`model '${config.name}': ${message}`);
  };
  const onnx = config.backend === ONNX_BACKEND && config.platform === ONNX_PLATFORM;
  const identity = config.backend === IDENTITY_BACKEND && config.platform === '';
  const repeat = config.backend === REPEAT_BACKEND && config.platform === '';
  if (!onnx && !identity && !repeat) {
    fail(
      `unsupported platform '${config.platform}' / backend '${config.backend}'; Nereid serves ONNX models ` +
        `(platform "${ONNX_PLATFORM}", backend "${ONNX_BACKEND}") and the "${IDENTITY_BACKEND}" and "${REPEAT_BACKEND}" backends`,
    );
  }
  if (config.maxBatchSize < 0) fail("'max_batch_size' must be non-negative value");
  if (config.input.length === 0) fail('must specify at least one input');
  if (config.output.length === 0) fail('must specify at least one output');
  checkTensors('input', config.input, fail);
  checkTensors('output', config.output, fail);
  const scheduling = config.schedulingChoice;
  if (scheduling?.$case === 'sequenceBatching') {
    sequenceControls(config);
    sequenceStates(config);
    checkSequenceBatching(config);
  }
  if (scheduling?.$case === 'ensembleScheduling') fail('ensemble_scheduling is not supported');
  if (scheduling?.$case === 'dynamicBatching') {
    const batching = scheduling.value;
    for (const size of batching.preferredBatchSize) {
      if (size < 1 || size > config.maxBatchSize) {
        fail(`dynamic batching preferred size ${size} must be between 1 and max_batch_size ${config.maxBatchSize}`);
      }
    }
    const levels = batching.priorityLevels;
    if (levels > 0n && (batching.defaultPriorityLevel < 1n || batching.defaultPriorityLevel > levels)) {
      fail(`dynamic_batching default_priority_level ${batching.defaultPriorityLevel} must be between 1 and priority_levels ${levels}`);
    }
    for (const level of batching.priorityQueuePolicy.keys()) {
      if (level < 1n || level > levels) fail(`dynamic_batching priority_queue_policy level ${level} must be between 1 and priority_levels ${levels}`);
    }
  }
  if (config.modelTransactionPolicy?.decoupled === true && !repeat) {
    fail(`decoupled transaction policy needs a backend that sends several responses per request; of Nereid's backends only "${REPEAT_BACKEND}" does`);
  }
  if (identity) checkIdentityPairs(config, fail);
  if (repeat) checkRepeatModel(config, fail);
  const policy = config.versionPolicy?.policyChoice;
  if (policy?.$case === 'latest' && policy.value.numVersions < 1) fail('version_policy latest must keep num_versions >= 1');
  for (const group of config.instanceGroup) {
    if (group.count < 1) fail(`instance group '${group.name}' must specify 'count' >= 1`);
    if (group.kind === Kind.KIND_CPU && group.gpus.length > 0) {
      fail(`instance group '${group.name}' has kind KIND_CPU but specifies one or more GPUs`);
    }
    if (group.kind === Kind.KIND_MODEL) fail(`instance group '${group.name}': KIND_MODEL is not supported`);
    if (group.gpus.some((id) => id < 0)) fail(`instance group '${group.name}' lists a negative GPU id`);
  }
}

function checkTensors(kind: string, tensors: readonly (ModelInput | ModelOutput)[], fail: (message: string) => never): void {
  const seen = new Set<string>();
  for (const tensor of tensors) {
    const what = `${kind} '${tensor.name}'`;
    if (tensor.name === '') fail(`every ${kind} must have a name`);
    if (seen.has(tensor.name)) fail(`${what} is declared twice`);
    seen.add(tensor.name);
    if (tensor.dataType === DataType.TYPE_INVALID || toProtocolDataType(tensor.dataType) === undefined) {
      fail(`${what} must specify a valid 'data_type'`);
    }
    if (tensor.dataType === DataType.TYPE_BF16) fail(`${what}: TYPE_BF16 tensors are not supported by ONNX Runtime for Node.js`);
    if (tensor.dims.length === 0) fail(`${what} must specify 'dims'`);
    if (tensor.dims.some((d) => d === 0n || d < -1n)) {
      fail(`${what} dimension must be integer >= 1, or -1 to indicate a variable-size dimension`);
    }
    const reshape = tensor.reshape?.shape;
    if (reshape !== undefined && !tensor.dims.includes(-1n) && !reshape.includes(-1n) && product(reshape) !== product(tensor.dims)) {
      fail(`${what} has different size for dims and reshape`);
    }
  }
}

/** The identity backend pairs input i with output i: same datatype and dims. */
function checkIdentityPairs(config: ModelConfig, fail: (message: string) => never): void {
  if (config.input.length !== config.output.length) fail('the identity backend needs as many outputs as inputs');
  config.input.forEach((input, i) => {
    const output = config.output[i]!;
    const same = input.dataType === output.dataType && input.dims.join(',') === output.dims.join(',');
    if (!same) fail(`the identity backend pairs input '${input.name}' with output '${output.name}', so their data_type and dims must match`);
  });
  for (const group of config.instanceGroup) {
    if (group.kind !== Kind.KIND_CPU) fail(`instance group '${group.name}': the identity backend runs on CPU only (KIND_CPU)`);
  }
}

/**
 * The repeat backend's checks (Triton's ValidateModelConfig in repeat.cc, same texts):
 * no batching, inputs IN (INT32 [N]), DELAY (UINT32, IN's dims) and WAIT (UINT32 [1]),
 * outputs OUT (INT32 [1]) and IDX (UINT32 [1]), in that order; and, as it sends several
 * responses per request, a decoupled transaction policy.
 */
function checkRepeatModel(config: ModelConfig, fail: (message: string) => never): void {
  if (config.modelTransactionPolicy?.decoupled !== true) fail('the repeat backend sends several responses per request, so it needs model_transaction_policy { decoupled: true }');
  if (config.maxBatchSize !== 0) fail('repeat backend only supports models with max_batch_size == 0');
  if (config.input.length !== 3) fail(`expected 3 inputs, got ${config.input.length}`);
  if (config.output.length !== 2) fail(`expected 2 outputs, got ${config.output.length}`);
  const [input, delay, wait] = config.input as [ModelInput, ModelInput, ModelInput];
  const [out, idx] = config.output as [ModelOutput, ModelOutput];
  const names: [ModelInput | ModelOutput, string, string][] = [
    [input, 'IN', 'first input'],
    [delay, 'DELAY', 'second input'],
    [wait, 'WAIT', 'third input'],
    [out, 'OUT', 'first output'],
    [idx, 'IDX', 'second output'],
  ];
  for (const [tensor, name, which] of names) if (tensor.name !== name) fail(`expected ${which} tensor name to be ${name}, got ${tensor.name}`);
  const shape = (t: ModelInput | ModelOutput) => `[${t.dims.join(',')}]`;
  if (input.dims.length !== 1) fail(`expected IN shape to have one dimension, got ${shape(input)}`);
  if (shape(input) !== shape(delay)) fail(`expected IN and DELAY shape to match, got ${shape(input)} and ${shape(delay)}`);
  for (const [tensor, name] of [[wait, 'WAIT'], [out, 'OUT'], [idx, 'IDX']] as const) {
    if (shape(tensor) !== '[1]') fail(`expected ${name} shape to be [1], got ${shape(tensor)}`);
  }
  const types: [ModelInput | ModelOutput, string, DataType][] = [
    [input, 'IN', DataType.TYPE_INT32],
    [delay, 'DELAY', DataType.TYPE_UINT32],
    [wait, 'WAIT', DataType.TYPE_UINT32],
    [out, 'OUT', DataType.TYPE_INT32],
    [idx, 'IDX', DataType.TYPE_UINT32],
  ];
  for (const [tensor, name, type] of types) {
    if (tensor.dataType !== type) fail(`expected ${name} datatype to be ${configDataTypeName(type).slice(5)}, got ${configDataTypeName(tensor.dataType)}`);
  }
  for (const group of config.instanceGroup) {
    if (group.kind !== Kind.KIND_CPU) fail(`instance group '${group.name}': the repeat backend runs on CPU only (KIND_CPU)`);
  }
}

function product(dims: readonly bigint[]): bigint {
  return dims.reduce((a, b) => a * b, 1n);
}

/**
 * Checks that the config describes the ONNX graph: the same inputs and outputs, the same
 * element types, and compatible shapes (rank equal; fixed dims equal; a batching model
 * needs a variable first dim everywhere).
 */
export function validateAgainstOnnx(config: ModelConfig, onnx: OnnxMetadata): void {
  const fail = (message: string): never => {
    throw new ModelConfigError(`model '${config.name}': ${message}`);
  };
  const pairs: [string, readonly (ModelInput | ModelOutput)[], readonly OnnxTensorInfo[]][] = [
    ['input', config.input, onnx.inputs],
    ['output', config.output, onnx.outputs],
  ];
  for (const [kind, configured, graph] of pairs) {
    const graphNames = graph.map((t) => t.name);
    for (const tensor of configured) {
      const actual = graph.find((t) => t.name === tensor.name);
      if (actual === undefined) {
        fail(`configuration lists ${kind} '${tensor.name}', but the ONNX model's ${kind}s are [${graphNames.join(', ')}]`);
      }
      checkTensorAgainstOnnx(config, kind, tensor, actual!, fail);
    }
    if (kind === 'input') {
      const fed = new Set([...sequenceControls(config).map((c) => c.name), ...sequenceStates(config).map((s) => s.inputName)]);
      for (const name of graphNames) {
        if (!configured.some((t) => t.name === name) && !fed.has(name)) fail(`ONNX model input '${name}' is missing from the configuration`);
      }
    }
  }
  checkSequenceAgainstOnnx(config, onnx);
}

function checkTensorAgainstOnnx(
  config: ModelConfig,
  kind: string,
  tensor: ModelInput | ModelOutput,
  actual: OnnxTensorInfo,
  fail: (message: string) => never,
): void {
  const what = `${kind} '${tensor.name}'`;
  const configured = toProtocolDataType(tensor.dataType);
  if (configured !== actual.datatype) {
    const onnxType = actual.datatype === undefined ? `ONNX element type ${actual.elemType}` : `TYPE_${actual.datatype === 'BYTES' ? 'STRING' : actual.datatype}`;
    fail(`${what}: configuration says ${configDataTypeName(tensor.dataType)} but the ONNX model declares ${onnxType}`);
  }
  if (actual.dims === undefined) return;
  const modelDims = (tensor.reshape?.shape ?? tensor.dims).map(Number);
  const expected = config.maxBatchSize > 0 ? [-1, ...modelDims] : modelDims;
  if (config.maxBatchSize > 0 && actual.dims[0] !== -1) {
    fail(
      `${what}: max_batch_size is ${config.maxBatchSize} but the ONNX model's shape [${actual.dims.join(',')}] has no ` +
        'variable first dim, so it cannot batch',
    );
  }
  const compatible =
    expected.length === actual.dims.length && expected.every((d, i) => actual.dims![i] === -1 || d === actual.dims![i]);
  if (!compatible) {
    fail(`${what}: configuration shape [${expected.join(',')}] does not match the ONNX model's [${actual.dims.join(',')}]`);
  }
}
