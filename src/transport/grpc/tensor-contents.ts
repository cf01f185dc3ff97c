import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import { isDataType, type DataType } from '../../core/data-type.js';
import { joinBytesElements } from '../../core/tensor.js';
import type { InferTensorContents } from '../../generated/grpc_service.js';

type Field = keyof InferTensorContents;

/**
 * Converts an input's typed `contents` into the raw little-endian layout (one copy, as
 * Triton does). The contents field must match the declared datatype: INT8 and INT16 come
 * in int_contents, UINT8 and UINT16 in uint_contents, narrowed to their low bytes.
 * FP16 and BF16 have no typed field and must be sent raw.
 */
export function contentsToBytes(contents: InferTensorContents, name: string, datatype: string, model: string): Uint8Array {
  const declared: DataType | undefined = isDataType(datatype) ? datatype : undefined;
  let data: Uint8Array | undefined;
  const take = (field: Field, carried: DataType, convert: () => Uint8Array) => {
    if ((contents[field] as unknown[]).length === 0) return;
    if (data !== undefined && data.byteLength !== 0) {
      throw new InferError(
        'INPUT_CONTENTS',
        `unexpected explicit tensor data for input tensor ${quote(name)} for model ${quote(model)}, binary data was already supplied.`,
      );
    }
    if (carried !== declared) {
      throw new InferError(
        'INPUT_CONTENTS',
        `unexpected explicit tensor data for input tensor ${quote(name)} for model ${quote(model)} of type '${carried}', ` +
          `expected datatype '${declared ?? '<invalid>'}'`,
      );
    }
    data = convert();
  };
  const intType = declared === 'INT8' || declared === 'INT16' ? declared : 'INT32';
  const uintType = declared === 'UINT8' || declared === 'UINT16' ? declared : 'UINT32';
  take('boolContents', 'BOOL', () => Uint8Array.from(contents.boolContents, (b) => (b ? 1 : 0)));
  take('intContents', intType, () => bytesOf(intType === 'INT8' ? Int8Array.from(contents.intContents) : intType === 'INT16' ? Int16Array.from(contents.intContents) : Int32Array.from(contents.intContents)));
  take('int64Contents', 'INT64', () => bytesOf(BigInt64Array.from(contents.int64Contents)));
  take('uintContents', uintType, () => bytesOf(uintType === 'UINT8' ? Uint8Array.from(contents.uintContents) : uintType === 'UINT16' ? Uint16Array.from(contents.uintContents) : Uint32Array.from(contents.uintContents)));
  take('uint64Contents', 'UINT64', () => bytesOf(BigUint64Array.from(contents.uint64Contents)));
  take('fp32Contents', 'FP32', () => bytesOf(Float32Array.from(contents.fp32Contents)));
  take('fp64Contents', 'FP64', () => bytesOf(Float64Array.from(contents.fp64Contents)));
  take('bytesContents', 'BYTES', () => joinBytesElements(contents.bytesContents));
  return data ?? new Uint8Array(0);
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}
