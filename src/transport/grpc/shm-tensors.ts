import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { InferResponse } from '../../core/infer-request.js';
import type { InferParameter, ModelInferRequest } from '../../generated/grpc_service.js';
import type { RegionLease, SystemSharedMemory } from '../../shm/system-shared-memory.js';

/** Where a tensor's bytes are in shared memory, as its parameters say. */
export interface ShmPlace {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

/**
 * Triton's ParseSharedMemoryParams: `shared_memory_region` (string_param) with
 * `shared_memory_byte_size` (int64_param, required) and `shared_memory_offset`
 * (int64_param, default 0). Undefined when the tensor does not use shared memory.
 */
export function shmPlace(tensor: string, parameters: { [key: string]: InferParameter }): ShmPlace | undefined {
  const region = parameters['shared_memory_region']?.parameterChoice;
  const offset = parameters['shared_memory_offset']?.parameterChoice;
  const size = parameters['shared_memory_byte_size']?.parameterChoice;
  const wrongType = (key: string, expected: string) =>
    new InferError('PARAMETER_INVALID', `invalid value type for '${key}' parameter for tensor ${quote(tensor)}, expected ${expected}.`);
  const without = (key: string) => new InferError('PARAMETER_INVALID', `'${key}' can not be specified without 'shared_memory_region' parameter for tensor ${quote(tensor)}`);
  if (region !== undefined && region.$case !== 'stringParam') throw wrongType('shared_memory_region', 'string_param');
  if (offset !== undefined) {
    if (region === undefined) throw without('shared_memory_offset');
    if (offset.$case !== 'int64Param') throw wrongType('shared_memory_offset', 'int64_param');
  }
  if (size !== undefined) {
    if (region === undefined) throw without('shared_memory_byte_size');
    if (size.$case !== 'int64Param') throw wrongType('shared_memory_byte_size', 'int64_param');
  }
  if (region === undefined) return undefined;
  if (size === undefined) {
    throw new InferError('PARAMETER_INVALID', `'shared_memory_byte_size' must be specified along with 'shared_memory_region' parameter for tensor ${quote(tensor)}`);
  }
  return { region: region.value, offset: asNumber(offset?.value ?? 0n), byteSize: asNumber(size.value) };
}

/** Out-of-range int64s become -1, which every bounds check refuses. */
function asNumber(value: bigint): number {
  return value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(value);
}

/**
 * The outputs a request wants written into shared memory, each holding its part of a
 * region until the response is ready. Checked before the request is queued, so a bad
 * region fails it at once. `release` must be called whatever happens.
 */
export class OutputRegions {
  private constructor(private readonly leases: ReadonlyMap<string, RegionLease>) {}

  static of(message: ModelInferRequest, shm: SystemSharedMemory): OutputRegions {
    const leases = new Map<string, RegionLease>();
    try {
      for (const output of message.outputs) {
        const place = shmPlace(output.name, output.parameters);
        if (place !== undefined) leases.set(output.name, shm.lease(place.region, place.offset, place.byteSize));
      }
    } catch (err) {
      for (const lease of leases.values()) lease.release();
      throw err;
    }
    return new OutputRegions(leases);
  }

  get empty(): boolean {
    return this.leases.size === 0;
  }

  /** Writes the outputs that go to shared memory; they leave the response with no bytes. */
  write(response: InferResponse): InferResponse {
    if (this.leases.size === 0) return response;
    const outputs = response.outputs.map((output) => {
      const lease = this.leases.get(output.name);
      if (lease === undefined) return output;
      lease.write(output.data, output.name);
      return { ...output, data: new Uint8Array(0) };
    });
    return { ...response, outputs };
  }

  release(): void {
    for (const lease of this.leases.values()) lease.release();
  }
}
