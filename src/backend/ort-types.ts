import type * as ort from 'onnxruntime-node';
import type { DataType } from '../core/data-type.js';

type NumericOrtType = Exclude<ort.Tensor.Type, 'string' | 'uint4' | 'int4'>;

const TO_ORT: Readonly<Partial<Record<DataType, ort.Tensor.Type>>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const FROM_ORT = new Map<string, DataType>(
  Object.entries(TO_ORT).map(([protocol, ortType]) => [ortType, protocol as DataType]),
);

/** ONNX Runtime's tensor type for a protocol datatype; undefined when ORT has none (BF16). */
export function toOrtType(datatype: DataType): ort.Tensor.Type | undefined {
  return TO_ORT[datatype];
}

/** Protocol datatype for an ORT tensor type; undefined for types the protocol lacks. */
export function fromOrtType(type: string): DataType | undefined {
  return FROM_ORT.get(type);
}

/**
 * A typed-array view of the right class for `type` over `bytes` (no copy). The caller
 * guarantees alignment: buffers here are fresh ArrayBuffers or ORT outputs.
 */
export function typedView(type: NumericOrtType, buffer: ArrayBuffer, byteOffset: number, byteLength: number): ort.Tensor.DataType {
  switch (type) {
    case 'float32':
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'float64':
      return new Float64Array(buffer, byteOffset, byteLength / 8);
    case 'int32':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'uint32':
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'int64':
      return new BigInt64Array(buffer, byteOffset, byteLength / 8);
    case 'uint64':
      return new BigUint64Array(buffer, byteOffset, byteLength / 8);
    case 'int16':
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'uint16':
    case 'float16':
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'int8':
      return new Int8Array(buffer, byteOffset, byteLength);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer, byteOffset, byteLength);
  }
}
