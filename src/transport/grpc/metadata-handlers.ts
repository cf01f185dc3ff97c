import type { GRPCInferenceServiceServer } from '../../generated/grpc_service.js';
import { isModelReady, modelMetadata, type TensorMetadata } from '../common/model-metadata.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

type Handlers = Pick<
  GRPCInferenceServiceServer,
  'serverLive' | 'serverReady' | 'serverMetadata' | 'modelReady' | 'modelMetadata' | 'modelConfig'
>;

/** Health, metadata and configuration RPCs: thin reads of server state and the registry (common/model-metadata.ts, shared with HTTP). */
export function metadataHandlers(context: ServiceContext): Handlers {
  const { registry, state } = context;
  const proto = (tensor: TensorMetadata) => ({ ...tensor, shape: tensor.shape.map(BigInt) });
  return {
    serverLive: unary(() => ({ live: state.isLive() })),
    serverReady: unary(() => ({ ready: state.isReady() })),
    serverMetadata: unary(() => ({
      name: context.serverName,
      version: context.serverVersion,
      extensions: [...context.extensions],
    })),
    modelReady: unary((request) => ({ ready: isModelReady(context, request.name, request.version) })),
    modelMetadata: unary((request) => {
      const metadata = modelMetadata(context, request.name, request.version);
      return { ...metadata, versions: [...metadata.versions], inputs: metadata.inputs.map(proto), outputs: metadata.outputs.map(proto) };
    }),
    modelConfig: unary((request) => ({ config: registry.get(request.name, request.version).config })),
  };
}
