/**
 * Reading and rewriting the numbers inside ONNX `TensorProto`s, whichever
 * field holds them (`raw_data` little-endian bytes or the typed repeated
 * fields). Tensors stored outside the model file are refused: the
 * transformations here work on self-contained models only.
 */
import onnxProto from 'onnx-proto';
import { DataType } from './graph-builder.js';
import { fromFloat16Bits } from './half-precision.js';
import { toNumber } from './onnx-model.js';

type TensorProto = onnxProto.onnx.ITensorProto;

/** The tensor's dims as numbers. */
export function tensorDims(t: TensorProto): number[] {
  return (t.dims ?? []).map(toNumber);
}

/** Number of elements the dims describe (1 for a scalar). */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function assertInline(t: TensorProto): void {
  if (t.dataLocation === onnxProto.onnx.TensorProto.DataLocation.EXTERNAL || (t.externalData ?? []).length > 0) {
    throw new Error(`tensor '${t.name ?? ''}' is stored as external data, which is not supported here`);
  }
}

function rawView(t: TensorProto): DataView | undefined {
  const raw = t.rawData;
  if (raw === null || raw === undefined || raw.length === 0) return undefined;
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/**
 * The values of a FLOAT, FLOAT16 or DOUBLE tensor as fp32.
 * @throws when the tensor has another element type, external data, or a
 *   data length that does not match its dims.
 */
export function readFloats(t: TensorProto): Float32Array {
  assertInline(t);
  const count = elementCount(tensorDims(t));
  const view = rawView(t);
  let out: Float32Array;
  switch (t.dataType) {
    case DataType.FLOAT:
      if (view !== undefined) {
        out = new Float32Array(view.byteLength / 4);
        for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
      } else out = Float32Array.from(t.floatData ?? []);
      break;
    case DataType.FLOAT16:
      if (view !== undefined) {
        const bits = new Uint16Array(view.byteLength / 2);
        for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(i * 2, true);
        out = fromFloat16Bits(bits);
      } else out = fromFloat16Bits(t.int32Data ?? []);
      break;
    case DataType.DOUBLE:
      if (view !== undefined) {
        out = new Float32Array(view.byteLength / 8);
        for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
      } else out = Float32Array.from(t.doubleData ?? []);
      break;
    default:
      throw new Error(`tensor '${t.name ?? ''}' has element type ${t.dataType ?? 0}, not a float type`);
  }
  if (out.length !== count) {
    throw new Error(`tensor '${t.name ?? ''}' holds ${out.length} values, its dims need ${count}`);
  }
  return out;
}

/** The values of an integer tensor (INT8..INT64, UINT8..UINT32) as numbers. */
export function readInts(t: TensorProto): number[] {
  assertInline(t);
  const view = rawView(t);
  const width: Record<number, number> = {
    [DataType.INT8]: 1, [DataType.UINT8]: 1, [DataType.INT16]: 2, [DataType.UINT16]: 2,
    [DataType.INT32]: 4, [DataType.UINT32]: 4, [DataType.INT64]: 8,
  };
  const w = width[t.dataType ?? 0];
  if (w === undefined) throw new Error(`tensor '${t.name ?? ''}' has element type ${t.dataType ?? 0}, not an integer type`);
  if (view === undefined) {
    return t.dataType === DataType.INT64 ? (t.int64Data ?? []).map(toNumber) : [...(t.int32Data ?? [])];
  }
  const out: number[] = [];
  for (let off = 0; off < view.byteLength; off += w) {
    switch (t.dataType) {
      case DataType.INT8: out.push(view.getInt8(off)); break;
      case DataType.UINT8: out.push(view.getUint8(off)); break;
      case DataType.INT16: out.push(view.getInt16(off, true)); break;
      case DataType.UINT16: out.push(view.getUint16(off, true)); break;
      case DataType.INT32: out.push(view.getInt32(off, true)); break;
      case DataType.UINT32: out.push(view.getUint32(off, true)); break;
      default: out.push(Number(view.getBigInt64(off, true)));
    }
  }
  return out;
}

/** Replaces the tensor's data with fp16 bit patterns stored as `raw_data`, and its type with FLOAT16. */
export function setFloat16Bits(t: TensorProto, bits: Uint16Array): void {
  const bytes = new Uint8Array(bits.length * 2);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < bits.length; i++) view.setUint16(i * 2, bits[i]!, true);
  t.dataType = DataType.FLOAT16;
  t.rawData = bytes;
  t.floatData = [];
  t.int32Data = [];
  t.doubleData = [];
}
