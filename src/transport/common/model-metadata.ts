import type { TensorSpec } from '../../core/model-info.js';
import type { ServiceContext } from './service-context.js';

/** One tensor in a model's metadata: the batch dimension shown as -1 when the model batches. */
export interface TensorMetadata {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
}

/** KServe v2 model metadata, for either transport. */
export interface ModelMetadata {
  readonly name: string;
  /** Every ready version when no version was named, else the one named. */
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

/** The metadata of a model version (NOT_FOUND / UNAVAILABLE from the registry's lookup). */
export function modelMetadata(context: Pick<ServiceContext, 'registry'>, name: string, version: string): ModelMetadata {
  const { registry } = context;
  const { info } = registry.get(name, version);
  const batching = info.maxBatchSize > 0;
  const describe = (spec: TensorSpec): TensorMetadata => ({ name: spec.name, datatype: spec.datatype, shape: batching ? [-1, ...spec.dims] : [...spec.dims] });
  return {
    name: info.name,
    versions: version === '' ? registry.readyVersionNames(info.name) : [String(info.version)],
    platform: info.platform,
    inputs: info.inputs.map(describe),
    outputs: info.outputs.map(describe),
  };
}

/** Model readiness as ModelReady answers it: false while the server stops. */
export function isModelReady(context: Pick<ServiceContext, 'registry' | 'state'>, name: string, version: string): boolean {
  return !context.state.isStopping() && context.registry.isReady(name, version);
}
