/** Helpers to build request tensors and read response tensors the way clients do. */

export function int32Bytes(values: readonly number[]): Buffer {
  return Buffer.from(Int32Array.from(values).buffer);
}

export function float32Bytes(values: readonly number[] | Float32Array): Buffer {
  return Buffer.from(Float32Array.from(values).buffer);
}

export function int64Bytes(values: readonly (number | bigint)[]): Buffer {
  return Buffer.from(BigInt64Array.from(values.map(BigInt)).buffer);
}

/** Serializes BYTES elements: 4-byte little-endian length, then the bytes. */
export function bytesTensor(elements: readonly (string | Uint8Array)[]): Buffer {
  const parts = elements.map((e) => (typeof e === 'string' ? Buffer.from(e, 'utf8') : Buffer.from(e)));
  return Buffer.concat(parts.flatMap((p) => [lengthPrefix(p.length), p]));
}

function lengthPrefix(length: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(length);
  return b;
}

/** A fresh, aligned copy of `raw`'s bytes. */
function aligned(raw: Uint8Array): ArrayBuffer {
  return new Uint8Array(raw).buffer;
}

/** Deterministic pseudo-random image data in [0, 1), `size` values from `seed`. */
export function pseudoImage(seed: number, size: number): Float32Array {
  const out = new Float32Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out[i] = x / 2 ** 31;
  }
  return out;
}

export function readInt32(raw: Uint8Array): number[] {
  return Array.from(new Int32Array(aligned(raw)));
}

export function readInt8(raw: Uint8Array): number[] {
  return Array.from(new Int8Array(aligned(raw)));
}

export function readFloat32(raw: Uint8Array): number[] {
  return Array.from(new Float32Array(aligned(raw)));
}

/** Parses BYTES elements out of a raw output. */
export function readBytesTensor(raw: Uint8Array): Buffer[] {
  const buffer = Buffer.from(raw);
  const out: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const length = buffer.readUInt32LE(offset);
    out.push(buffer.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return out;
}

/** A valid ModelInfer request for the example `simple` (INPUT0 and INPUT1 all ones), with `overrides` applied; tests break it one way each. */
export function simpleRequest(overrides: Record<string, unknown> = {}) {
  const ones = int32Bytes(Array.from({ length: 16 }, () => 1));
  return {
    model_name: 'simple',
    inputs: [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16] },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16] },
    ],
    raw_input_contents: [ones, Buffer.from(ones)],
    ...overrides,
  };
}
