import type { DataType } from '../core/data-type.js';
import type { ModelInfo, TensorSpec } from '../core/model-info.js';
import type { ModelConfig, ModelInput, ModelOutput } from '../generated/model_config.js';
import { toProtocolDataType } from './config-data-type.js';

/** The core's view of a validated config for one version. */
export function modelInfoFromConfig(config: ModelConfig, version: number): ModelInfo {
  return {
    name: config.name,
    version,
    platform: config.platform !== '' ? config.platform : config.backend,
    maxBatchSize: config.maxBatchSize,
    inputs: config.input.map((t) => tensorSpec(t, t.optional)),
    outputs: config.output.map((t) => tensorSpec(t, false)),
    ...(config.modelTransactionPolicy?.decoupled === true ? { decoupled: true } : {}),
  };
}

function tensorSpec(tensor: ModelInput | ModelOutput, optional: boolean): TensorSpec {
  const reshape = tensor.reshape?.shape.map(Number);
  return {
    name: tensor.name,
    // validateModelConfig has rejected configs whose types have no protocol name.
    datatype: toProtocolDataType(tensor.dataType) as DataType,
    dims: tensor.dims.map(Number),
    ...(reshape !== undefined ? { reshape } : {}),
    optional,
  };
}
