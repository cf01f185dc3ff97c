import { boundedList } from './client-text.js';
import type { DataType } from './data-type.js';

/**
 * A named tensor: datatype, shape and its bytes in the protocol's raw layout
 * (little-endian, row-major; BYTES elements as 4-byte length + bytes).
 *
 * `data` is usually a view: over the received gRPC message for request inputs, over the
 * buffer ONNX Runtime returned for outputs. Whoever holds a Tensor must not write to it.
 */
export interface Tensor {
  readonly name: string;
  readonly datatype: DataType;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Number of elements in `shape`, or -1 when the product exceeds
 * Number.MAX_SAFE_INTEGER (so it can never be a real tensor). Empty shape = scalar = 1.
 */
export function elementCount(shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  let count = 1;
  for (const dim of shape) {
    count *= dim;
    if (count > Number.MAX_SAFE_INTEGER) return -1;
  }
  return count;
}

/** Most dims of a shape printed in a message; a client may send thousands. */
export const SHAPE_MAX_DIMS = 16;

/**
 * Formats a shape the way Triton prints it in messages: `[1,16]`. Past
 * {@link SHAPE_MAX_DIMS} dims, the first ones and how many more: `[1,1,…, and 9984 more]`.
 */
export function formatShape(shape: readonly (number | bigint)[]): string {
  return boundedList(shape, SHAPE_MAX_DIMS, String);
}

/**
 * Counts the elements of a BYTES tensor by walking its 4-byte length prefixes.
 * Returns -1 when a length runs past the end of the buffer.
 */
export function countBytesElements(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  let count = 0;
  while (offset < data.byteLength) {
    if (offset + 4 > data.byteLength) return -1;
    const length = view.getUint32(offset, true);
    offset += 4 + length;
    if (offset > data.byteLength) return -1;
    count += 1;
  }
  return count;
}

/** Splits a serialized BYTES tensor into element views (no copies). Assumes it is well formed. */
export function splitBytesElements(data: Uint8Array): Uint8Array[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const elements: Uint8Array[] = [];
  let offset = 0;
  while (offset + 4 <= data.byteLength) {
    const length = view.getUint32(offset, true);
    elements.push(data.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return elements;
}

/** Serializes elements in the BYTES layout: each as a 4-byte little-endian length + bytes. */
export function joinBytesElements(elements: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const element of elements) total += 4 + element.byteLength;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const element of elements) {
    view.setUint32(offset, element.byteLength, true);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}

/**
 * The bytes of BYTES elements [first, first + count) of a serialized BYTES tensor, as a
 * view (no copy). Assumes the data is well formed.
 */
export function sliceBytesElements(data: Uint8Array, first: number, count: number): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let offset = 0;
  for (let i = 0; i < first; i++) offset += 4 + view.getUint32(offset, true);
  let end = offset;
  for (let i = 0; i < count; i++) end += 4 + view.getUint32(end, true);
  return data.subarray(offset, end);
}
