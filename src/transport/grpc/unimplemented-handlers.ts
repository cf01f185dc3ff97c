import type { ServerDuplexStream } from '@grpc/grpc-js';
import { InferError } from '../../core/errors.js';
import type { GRPCInferenceServiceServer, ModelInferRequest, ModelStreamInferResponse } from '../../generated/grpc_service.js';
import { toServiceError } from './status.js';
import { unary } from './unary.js';

type Pending = Omit<
  GRPCInferenceServiceServer,
  | 'serverLive'
  | 'serverReady'
  | 'serverMetadata'
  | 'modelReady'
  | 'modelMetadata'
  | 'modelConfig'
  | 'modelInfer'
  | 'modelStatistics'
  | 'traceSetting'
  | 'logSettings'
>;

function notYet(rpc: string, extension: string) {
  return unary<unknown, never>(() => {
    throw new InferError('UNSUPPORTED', `${rpc} is not implemented by this server yet (Triton extension '${extension}')`);
  });
}

/**
 * The RPCs of GRPCInferenceService that Nereid does not serve yet. They are registered
 * so clients get UNIMPLEMENTED with a message naming the RPC, rather than a bare
 * "method not found".
 */
export function unimplementedHandlers(): Pending {
  return {
    modelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>) => {
      const error = new InferError('UNSUPPORTED', "ModelStreamInfer is not implemented by this server yet (Triton extension 'sequence')");
      call.emit('error', toServiceError(error));
    },
    repositoryIndex: notYet('RepositoryIndex', 'model_repository'),
    repositoryModelLoad: notYet('RepositoryModelLoad', 'model_repository'),
    repositoryModelUnload: notYet('RepositoryModelUnload', 'model_repository'),
    systemSharedMemoryStatus: notYet('SystemSharedMemoryStatus', 'system_shared_memory'),
    systemSharedMemoryRegister: notYet('SystemSharedMemoryRegister', 'system_shared_memory'),
    systemSharedMemoryUnregister: notYet('SystemSharedMemoryUnregister', 'system_shared_memory'),
    cudaSharedMemoryStatus: notYet('CudaSharedMemoryStatus', 'cuda_shared_memory'),
    cudaSharedMemoryRegister: notYet('CudaSharedMemoryRegister', 'cuda_shared_memory'),
    cudaSharedMemoryUnregister: notYet('CudaSharedMemoryUnregister', 'cuda_shared_memory'),
  };
}
