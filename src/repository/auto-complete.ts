import { ModelDynamicBatching, ModelInput, ModelOutput, ModelTensorReshape, type ModelConfig } from '../generated/model_config.js';
import type { OnnxMetadata, OnnxTensorInfo } from '../onnx/onnx-metadata.js';
import { toConfigDataType } from './config-data-type.js';
import { ModelConfigError } from './config-error.js';
import { sequenceControls, sequenceStates } from './sequence-config.js';

/** Platform and backend names Nereid serves. */
export const ONNX_PLATFORM = 'onnxruntime_onnx';
export const ONNX_BACKEND = 'onnxruntime';
export const ONNX_MODEL_FILENAME = 'model.onnx';
/** Triton's identity backend: outputs are the inputs, paired in config order. */
export const IDENTITY_BACKEND = 'identity';
/** Triton's repeat example backend: a decoupled model sending one response per element of IN. */
export const REPEAT_BACKEND = 'repeat';

/**
 * Fills the fields every model needs before its files are read, as Triton's core does:
 * the name defaults to the directory name, and a model that is ONNX by platform, file
 * name or files on disk gets backend "onnxruntime", platform "onnxruntime_onnx" and
 * default_model_filename "model.onnx". Mutates and returns `config`.
 */
export function completeBackendFields(config: ModelConfig, dirName: string, hasOnnxFile: boolean): ModelConfig {
  if (config.name === '') config.name = dirName;
  const looksOnnx =
    config.backend === ONNX_BACKEND ||
    config.platform === ONNX_PLATFORM ||
    config.defaultModelFilename === ONNX_MODEL_FILENAME ||
    (config.backend === '' && config.platform === '' && hasOnnxFile);
  if (looksOnnx) {
    if (config.backend === '') config.backend = ONNX_BACKEND;
    if (config.platform === '') config.platform = ONNX_PLATFORM;
    if (config.defaultModelFilename === '') config.defaultModelFilename = ONNX_MODEL_FILENAME;
  }
  return config;
}

/**
 * Completes a partial config from the ONNX graph, following Triton's ONNX Runtime backend:
 * nothing happens when the config already lists at least one input and one output.
 * Otherwise the model is batchable only if every input and output has a variable first
 * dimension; a batchable model with max_batch_size 0 gets `defaultMaxBatchSize` (and an
 * empty dynamic_batching block when that is > 1); missing inputs/outputs come from the
 * graph, without the batch dimension when batching. Returns warnings to log.
 */
export function completeFromOnnx(config: ModelConfig, onnx: OnnxMetadata, defaultMaxBatchSize: number): string[] {
  if (config.input.length > 0 && config.output.length > 0) return [];
  const warnings: string[] = [];
  const tensors = [...onnx.inputs, ...onnx.outputs];
  const batchable = tensors.length > 0 && tensors.every((t) => t.dims !== undefined && t.dims.length > 0 && t.dims[0] === -1);
  if (batchable) {
    if (config.maxBatchSize === 0) {
      config.maxBatchSize = defaultMaxBatchSize;
      warnings.push(
        `autofilled max_batch_size to ${defaultMaxBatchSize} for model '${config.name}' since batching is supported ` +
          'but no max_batch_size is specified in model configuration. Must specify max_batch_size to utilize autofill ' +
          'with a larger max batch size',
      );
    }
    if (config.maxBatchSize > 1 && config.schedulingChoice === undefined) {
      config.schedulingChoice = { $case: 'dynamicBatching', value: ModelDynamicBatching.fromPartial({}) };
    }
  } else if (config.maxBatchSize !== 0) {
    throw new ModelConfigError(
      `autofill failed for model '${config.name}': model does not support batching while non-zero max_batch_size is specified`,
    );
  }
  const batching = config.maxBatchSize > 0;
  // The sequence batcher feeds control and state inputs itself; clients never send them.
  const fed = new Set([...sequenceControls(config).map((c) => c.name), ...sequenceStates(config).flatMap((s) => [s.inputName, s.outputName])]);
  if (config.input.length === 0) {
    config.input = onnx.inputs.filter((t) => !fed.has(t.name)).map((t) => ModelInput.fromPartial({ name: t.name, ...tensorFields(config.name, t, batching) }));
  }
  if (config.output.length === 0) {
    config.output = onnx.outputs.filter((t) => !fed.has(t.name)).map((t) => ModelOutput.fromPartial({ name: t.name, ...tensorFields(config.name, t, batching) }));
  }
  return warnings;
}

function tensorFields(model: string, tensor: OnnxTensorInfo, batching: boolean) {
  if (tensor.datatype === undefined) {
    throw new ModelConfigError(
      `autofill failed for model '${model}': tensor '${tensor.name}' has ONNX element type ${tensor.elemType}, which has no Triton data type`,
    );
  }
  if (tensor.dims === undefined) {
    throw new ModelConfigError(
      `autofill failed for model '${model}': the ONNX graph declares no shape for '${tensor.name}'; list it in config.pbtxt`,
    );
  }
  const dims = batching ? tensor.dims.slice(1) : [...tensor.dims];
  // A scalar per batch item: Triton declares it as [1] and reshapes to [] for the model.
  const scalar = dims.length === 0;
  return {
    dataType: toConfigDataType(tensor.datatype),
    dims: (scalar ? [1] : dims).map(BigInt),
    reshape: scalar && batching ? ModelTensorReshape.fromPartial({ shape: [] }) : undefined,
  };
}

