import { elementByteSize } from '../core/data-type.js';
import type { StateTensor } from '../core/sequence-policy.js';

/**
 * One implicit state of one sequence: what the model's state output gave at the
 * sequence's last request, to be fed to its state input at the next. Owned by its
 * sequence and dropped with it. Main thread only.
 */
export interface StateValue {
  /** Shape without the batch dimension. */
  readonly shape: readonly number[];
  /** Row-major bytes, in a buffer of their own (never a view into a batch's outputs). */
  readonly data: Uint8Array;
}

/**
 * The state a sequence starts with: the configured initial_state (zero_data or a data
 * file), else zeros with every variable dim taken as 1, as Triton does.
 */
export function initialState(spec: StateTensor): StateValue {
  if (spec.initial !== undefined) return { shape: spec.initial.dims, data: spec.initial.data.slice() };
  const shape = spec.dims.map((d) => (d === -1 ? 1 : d));
  const count = shape.reduce((a, b) => a * b, 1);
  return { shape, data: new Uint8Array(count * elementByteSize(spec.datatype)) };
}

/** A key that is equal for states that can share a batch (same shapes). */
export function stateShapeKey(states: ReadonlyMap<string, StateValue>): string {
  let key = '';
  for (const [name, value] of states) key += `${name}:${value.shape.join('x')};`;
  return key;
}

/** Bytes a sequence's states hold (for the memory figures). */
export function stateBytes(states: ReadonlyMap<string, StateValue> | undefined): number {
  let bytes = 0;
  for (const value of states?.values() ?? []) bytes += value.data.byteLength;
  return bytes;
}
