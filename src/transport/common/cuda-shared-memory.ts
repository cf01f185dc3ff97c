import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';

/**
 * Triton's CUDA shared memory extension, for either transport. It cannot be served:
 * importing a CUDA IPC handle needs the CUDA runtime in this process, and Nereid reaches
 * the GPU only through ONNX Runtime. Its status is empty and unregistering succeeds
 * (tritonclient's examples call both on every run); Register says why it is not available,
 * in Triton's words for a server built without GPU support.
 */
export const cudaSharedMemory = {
  /** No region is ever registered: an empty list, or NOT_FOUND for a named one. */
  status(name: string): [] {
    if (name !== '') throw new InferError('SHM_REGION_NOT_FOUND', `Unable to find cuda shared memory region: ${quote(name)}`);
    return [];
  },
  register(name: string): never {
    throw new InferError(
      'CUDA_SHM_UNAVAILABLE',
      `failed to register CUDA shared memory region: ${quote(name)}, GPUs not supported ` +
        '(Nereid runs GPU models through ONNX Runtime and cannot open CUDA IPC handles; use system shared memory)',
    );
  },
};

/** A uint64 from the wire as a number; sizes past 2^53 cannot be real regions. */
export function regionSize(value: bigint, name: string): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InferError('SHM_REGION_INVALID', `failed to register shared memory region ${quote(name)}: invalid args (offset or byte_size too large)`);
  }
  return Number(value);
}
