import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { InferResponse, ParameterValue, RequestedOutput } from '../../core/infer-request.js';
import type { RegionLease, SystemSharedMemory } from '../../shm/system-shared-memory.js';

/** Where a tensor's bytes are in shared memory, as its parameters say. */
export interface ShmPlace {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

/**
 * Triton's ParseSharedMemoryParams, for either transport once its parameters are decoded:
 * `shared_memory_region` (a string) with `shared_memory_byte_size` (an int64, required) and
 * `shared_memory_offset` (an int64, default 0). Undefined when the tensor does not use shared
 * memory. gRPC's typed parameters and HTTP's JSON numbers both arrive as core ParameterValues.
 */
export function shmPlace(tensor: string, parameters: ReadonlyMap<string, ParameterValue>): ShmPlace | undefined {
  // Most tensors have no parameters at all: answer before building the error helpers.
  if (parameters.size === 0) return undefined;
  const region = parameters.get('shared_memory_region');
  const offset = parameters.get('shared_memory_offset');
  const size = parameters.get('shared_memory_byte_size');
  const wrongType = (key: string, expected: string) =>
    new InferError('PARAMETER_INVALID', `invalid value type for '${key}' parameter for tensor ${quote(tensor)}, expected ${expected}.`);
  const without = (key: string) => new InferError('PARAMETER_INVALID', `'${key}' can not be specified without 'shared_memory_region' parameter for tensor ${quote(tensor)}`);
  if (region !== undefined && region.kind !== 'string') throw wrongType('shared_memory_region', 'string_param');
  if (offset !== undefined) {
    if (region === undefined) throw without('shared_memory_offset');
    if (offset.kind !== 'int64') throw wrongType('shared_memory_offset', 'int64_param');
  }
  if (size !== undefined) {
    if (region === undefined) throw without('shared_memory_byte_size');
    if (size.kind !== 'int64') throw wrongType('shared_memory_byte_size', 'int64_param');
  }
  if (region === undefined) return undefined;
  if (size === undefined) {
    throw new InferError('PARAMETER_INVALID', `'shared_memory_byte_size' must be specified along with 'shared_memory_region' parameter for tensor ${quote(tensor)}`);
  }
  return { region: region.value as string, offset: asNumber((offset?.value as bigint | undefined) ?? 0n), byteSize: asNumber(size.value as bigint) };
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

  static of(outputs: readonly RequestedOutput[], shm: SystemSharedMemory): OutputRegions {
    const leases = new Map<string, RegionLease>();
    try {
      for (const output of outputs) {
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

  /** True when `output` goes to shared memory (its response tensor then carries no bytes). */
  has(output: string): boolean {
    return this.leases.has(output);
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
