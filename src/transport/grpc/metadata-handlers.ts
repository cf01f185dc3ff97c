import type { TensorSpec } from '../../core/model-info.js';
import type {
  GRPCInferenceServiceServer,
  ModelMetadataResponse_TensorMetadata,
} from '../../generated/grpc_service.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

type Handlers = Pick<
  GRPCInferenceServiceServer,
  'serverLive' | 'serverReady' | 'serverMetadata' | 'modelReady' | 'modelMetadata' | 'modelConfig'
>;

/** Health, metadata and configuration RPCs: thin reads of server state and the registry. */
export function metadataHandlers(context: ServiceContext): Handlers {
  const { registry, state } = context;
  return {
    serverLive: unary(() => ({ live: state.isLive() })),
    serverReady: unary(() => ({ ready: state.isReady() })),
    serverMetadata: unary(() => ({
      name: context.serverName,
      version: context.serverVersion,
      extensions: [...context.extensions],
    })),
    modelReady: unary((request) => ({ ready: !state.isStopping() && registry.isReady(request.name, request.version) })),
    modelMetadata: unary((request) => {
      const { info } = registry.get(request.name, request.version);
      const batching = info.maxBatchSize > 0;
      const describe = (spec: TensorSpec): ModelMetadataResponse_TensorMetadata => ({
        name: spec.name,
        datatype: spec.datatype,
        shape: (batching ? [-1, ...spec.dims] : spec.dims).map(BigInt),
      });
      return {
        name: info.name,
        versions: request.version === '' ? registry.readyVersionNames(info.name) : [String(info.version)],
        platform: info.platform,
        inputs: info.inputs.map(describe),
        outputs: info.outputs.map(describe),
      };
    }),
    modelConfig: unary((request) => ({ config: registry.get(request.name, request.version).config })),
  };
}
