import type { GRPCInferenceServiceServer } from '../../generated/grpc_service.js';
import { cudaSharedMemory, regionSize } from '../common/cuda-shared-memory.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

type Handlers = Pick<
  GRPCInferenceServiceServer,
  | 'systemSharedMemoryStatus'
  | 'systemSharedMemoryRegister'
  | 'systemSharedMemoryUnregister'
  | 'cudaSharedMemoryStatus'
  | 'cudaSharedMemoryRegister'
  | 'cudaSharedMemoryUnregister'
>;

/**
 * Triton's shared memory extensions. System shared memory is served by the server's
 * SystemSharedMemory; CUDA shared memory answers as common/cuda-shared-memory.ts says
 * (shared with HTTP).
 */
export function sharedMemoryHandlers(context: ServiceContext): Handlers {
  const shm = context.sharedMemory;
  return {
    systemSharedMemoryStatus: unary((request) => ({
      regions: Object.fromEntries(
        shm.status(request.name).map((r) => [r.name, { name: r.name, key: r.key, offset: BigInt(r.offset), byteSize: BigInt(r.byteSize) }]),
      ),
    })),
    systemSharedMemoryRegister: unary((request) => {
      shm.register(request.name, request.key, regionSize(request.offset, request.name), regionSize(request.byteSize, request.name));
      return {};
    }),
    systemSharedMemoryUnregister: unary((request) => {
      shm.unregister(request.name);
      return {};
    }),
    cudaSharedMemoryStatus: unary((request) => {
      cudaSharedMemory.status(request.name);
      return { regions: {} };
    }),
    cudaSharedMemoryRegister: unary((request) => cudaSharedMemory.register(request.name)),
    cudaSharedMemoryUnregister: unary(() => ({})),
  };
}
