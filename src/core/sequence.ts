import { clip } from './client-text.js';
import { InferError } from './errors.js';
import type { ParameterValue } from './infer-request.js';

/**
 * A sequence's correlation ID as the client sent it. Triton keeps numeric IDs as uint64
 * (an int64_param is reinterpreted, so -1 is 2^64 - 1) and string IDs as they are; the
 * two kinds never name the same sequence.
 */
export type CorrelationId = { readonly kind: 'uint64'; readonly value: bigint } | { readonly kind: 'string'; readonly value: string };

/** The sequence parameters of one request: `sequence_id`, `sequence_start`, `sequence_end`. */
export interface SequenceFlags {
  /** Undefined when the request names no sequence (no `sequence_id`, or 0, or ''). */
  readonly id: CorrelationId | undefined;
  readonly start: boolean;
  readonly end: boolean;
}

const UINT64 = 1n << 64n;

/**
 * Reads the sequence parameters the way Triton's gRPC frontend does: `sequence_id` as an
 * int64_param or string_param (tritonclient sends ints as int64_param; a uint64_param is
 * accepted too), `sequence_start` and `sequence_end` as bool_params. A wrong type is
 * INVALID_ARGUMENT with Triton's text. Pure.
 */
export function readSequenceFlags(parameters: ReadonlyMap<string, ParameterValue>): SequenceFlags {
  const raw = parameters.get('sequence_id');
  let id: CorrelationId | undefined;
  if (raw !== undefined) {
    if (raw.kind === 'int64' || raw.kind === 'uint64') {
      const value = raw.value < 0n ? raw.value + UINT64 : raw.value;
      if (value !== 0n) id = { kind: 'uint64', value };
    } else if (raw.kind === 'string') {
      if (raw.value !== '') id = { kind: 'string', value: raw.value };
    } else {
      throw new InferError('PARAMETER_INVALID', "invalid value type for 'sequence_id' parameter, expected int64_param or string_param.");
    }
  }
  return { id, start: readFlag(parameters, 'sequence_start'), end: readFlag(parameters, 'sequence_end') };
}

function readFlag(parameters: ReadonlyMap<string, ParameterValue>, key: string): boolean {
  const raw = parameters.get(key);
  if (raw === undefined) return false;
  if (raw.kind !== 'bool') throw new InferError('PARAMETER_INVALID', `invalid value type for '${key}' parameter, expected bool_param.`);
  return raw.value;
}

/** A map key for a correlation ID: the kinds never collide (`u1` is not `s1`). */
export function correlationKey(id: CorrelationId): string {
  return id.kind === 'uint64' ? `u${id.value}` : `s${id.value}`;
}

/** A correlation ID as Triton prints it in messages: the number, or the string (cut when long). */
export function formatCorrelationId(id: CorrelationId): string {
  return id.kind === 'uint64' ? String(id.value) : clip(id.value);
}
