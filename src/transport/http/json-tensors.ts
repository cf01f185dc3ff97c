import { quote } from '../../core/client-text.js';
import type { DataType } from '../../core/data-type.js';
import { InferError } from '../../core/errors.js';
import { bfloat16BitsToFloat32, float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits } from '../../core/float16-bits.js';
import { joinBytesElements, splitBytesElements } from '../../core/tensor.js';

const INTEGER_RANGE: Partial<Record<DataType, readonly [number, number]>> = {
  UINT8: [0, 0xff],
  UINT16: [0, 0xffff],
  UINT32: [0, 0xffffffff],
  INT8: [-0x80, 0x7f],
  INT16: [-0x8000, 0x7fff],
  INT32: [-0x80000000, 0x7fffffff],
};

const encoder = new TextEncoder();

/**
 * The elements of a JSON `data` field, flat or nested to any depth, in row-major order.
 * Stops (returning undefined) past `maxElements`, so a huge array is refused before its
 * tensor is built.
 */
export function flattenData(data: unknown, maxElements: number): unknown[] | undefined {
  if (!Array.isArray(data)) return [data];
  const out: unknown[] = [];
  const walk = (value: unknown[]): boolean => {
    for (const item of value) {
      if (Array.isArray(item)) {
        if (!walk(item)) return false;
      } else {
        if (out.length >= maxElements) return false;
        out.push(item);
      }
    }
    return true;
  };
  return walk(data) ? out : undefined;
}

/**
 * JSON elements -> the tensor's raw little-endian bytes, checking each element: BOOL as
 * true/false, integer types as integers in range (INT64 and UINT64 also as decimal
 * strings, for values past 2^53), FP16, BF16, FP32 and FP64 as numbers (Triton refuses FP16
 * and BF16 in JSON; here they are converted, rounding to nearest even), BYTES as strings
 * (UTF-8). `describe` names the tensor in messages.
 */
export function elementsToBytes(datatype: DataType, elements: readonly unknown[], describe: string): Uint8Array {
  const bad = (index: number, expected: string) =>
    new InferError('INPUT_CONTENTS', `unable to parse 'data' of ${describe}: element ${index} is ${show(elements[index])}, expected ${expected}`);
  const n = elements.length;
  switch (datatype) {
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = elements[i];
        if (typeof v !== 'boolean') throw bad(i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'UINT8':
    case 'UINT16':
    case 'UINT32':
    case 'INT8':
    case 'INT16':
    case 'INT32': {
      const [min, max] = INTEGER_RANGE[datatype]!;
      const out = new (ARRAYS[datatype])(n);
      for (let i = 0; i < n; i++) {
        const v = elements[i];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(i, `an integer from ${min} to ${max} (${datatype})`);
        out[i] = v;
      }
      return bytesOf(out);
    }
    case 'INT64':
    case 'UINT64': {
      const signed = datatype === 'INT64';
      const out = signed ? new BigInt64Array(n) : new BigUint64Array(n);
      const [min, max] = signed ? [-(1n << 63n), (1n << 63n) - 1n] : [0n, (1n << 64n) - 1n];
      for (let i = 0; i < n; i++) {
        const v = elements[i];
        let big: bigint | undefined;
        if (typeof v === 'number' && Number.isInteger(v)) big = BigInt(v);
        else if (typeof v === 'string' && /^-?\d{1,20}$/.test(v)) big = BigInt(v);
        if (big === undefined || big < min || big > max) throw bad(i, `an integer (${datatype})`);
        out[i] = big;
      }
      return bytesOf(out);
    }
    case 'FP16':
    case 'BF16': {
      const out = new Uint16Array(n);
      const convert = datatype === 'FP16' ? float32ToFloat16Bits : float32ToBfloat16Bits;
      for (let i = 0; i < n; i++) {
        const v = elements[i];
        if (typeof v !== 'number') throw bad(i, `a number (${datatype})`);
        out[i] = convert(v);
      }
      return bytesOf(out);
    }
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = elements[i];
        if (typeof v !== 'number') throw bad(i, `a number (${datatype})`);
        out[i] = v;
      }
      return bytesOf(out);
    }
    case 'BYTES': {
      const parts: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const v = elements[i];
        if (typeof v !== 'string') throw bad(i, 'a string (BYTES)');
        parts.push(encoder.encode(v));
      }
      return joinBytesElements(parts);
    }
  }
}

const ARRAYS = {
  UINT8: Uint8Array,
  UINT16: Uint16Array,
  UINT32: Uint32Array,
  INT8: Int8Array,
  INT16: Int16Array,
  INT32: Int32Array,
} as const;

const decoder = new TextDecoder();

/**
 * A tensor's bytes as the JSON text of its flat `data` array, as Triton writes it: numbers
 * (FP16 and BF16 converted to their values; INT64 and UINT64 exact), true/false for BOOL,
 * strings for BYTES (UTF-8; invalid sequences become U+FFFD, so exact bytes need binary
 * output). Non-finite floats, which JSON cannot spell, are written as null.
 */
export function bytesToJsonText(datatype: DataType, data: Uint8Array): string {
  const aligned = (bytesPer: number): Uint8Array<ArrayBuffer> => (data.byteOffset % bytesPer === 0 && data.buffer instanceof ArrayBuffer ? (data as Uint8Array<ArrayBuffer>) : data.slice());
  switch (datatype) {
    case 'BOOL': {
      let text = '[';
      for (let i = 0; i < data.length; i++) text += (i > 0 ? ',' : '') + (data[i] !== 0 ? 'true' : 'false');
      return `${text}]`;
    }
    case 'UINT8':
    case 'INT8':
    case 'UINT16':
    case 'INT16':
    case 'UINT32':
    case 'INT32': {
      const Type = ARRAYS[datatype];
      const bytes = aligned(Type.BYTES_PER_ELEMENT);
      return `[${new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT).join(',')}]`;
    }
    case 'INT64':
    case 'UINT64': {
      const bytes = aligned(8);
      const Type = datatype === 'INT64' ? BigInt64Array : BigUint64Array;
      return `[${new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8).join(',')}]`;
    }
    case 'FP16':
    case 'BF16': {
      const bytes = aligned(2);
      const bits = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      const convert = datatype === 'FP16' ? float16BitsToFloat32 : bfloat16BitsToFloat32;
      return floats(Array.from(bits, convert));
    }
    case 'FP32': {
      const bytes = aligned(4);
      return floats(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4));
    }
    case 'FP64': {
      const bytes = aligned(8);
      return floats(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8));
    }
    case 'BYTES':
      return JSON.stringify(splitBytesElements(data).map((element) => decoder.decode(element)));
  }
}

function floats(values: ArrayLike<number> & { join(separator: string): string }): string {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) return `[${Array.from(values as ArrayLike<number>, (v) => (Number.isFinite(v) ? String(v) : 'null')).join(',')}]`;
  }
  return `[${values.join(',')}]`;
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** A JSON element for a message, bounded. */
function show(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** Names an input for messages, as Triton does: `input 'INPUT0' of model 'simple'`. */
export function inputLabel(input: string, model: string): string {
  return `input ${quote(input)} of model ${quote(model)}`;
}
