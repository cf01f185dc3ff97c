import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { GRPCInferenceServiceServer } from '../../generated/grpc_service.js';
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
 * SystemSharedMemory. CUDA shared memory cannot be: importing a CUDA IPC handle needs
 * the CUDA runtime in this process, and Nereid reaches the GPU only through ONNX Runtime.
 * Its status is empty and unregistering succeeds (tritonclient's examples call both on
 * every run), and Register says why it is not available, in Triton's words for a server
 * built without GPU support.
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
      shm.register(request.name, request.key, safe(request.offset, request.name), safe(request.byteSize, request.name));
      return {};
    }),
    systemSharedMemoryUnregister: unary((request) => {
      shm.unregister(request.name);
      return {};
    }),
    cudaSharedMemoryStatus: unary((request) => {
      if (request.name !== '') throw new InferError('SHM_REGION_NOT_FOUND', `Unable to find cuda shared memory region: ${quote(request.name)}`);
      return { regions: {} };
    }),
    cudaSharedMemoryRegister: unary((request) => {
      throw new InferError(
        'CUDA_SHM_UNAVAILABLE',
        `failed to register CUDA shared memory region: ${quote(request.name)}, GPUs not supported ` +
          '(Nereid runs GPU models through ONNX Runtime and cannot open CUDA IPC handles; use system shared memory)',
      );
    }),
    cudaSharedMemoryUnregister: unary(() => ({})),
  };
}

/** A uint64 from the wire as a number; sizes past 2^53 cannot be real regions. */
function safe(value: bigint, name: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InferError('SHM_REGION_INVALID', `failed to register shared memory region ${quote(name)}: invalid args (offset or byte_size too large)`);
  }
  return Number(value);
}
