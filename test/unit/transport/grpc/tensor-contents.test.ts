import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError, type ErrorId } from '../../../../src/core/errors.js';
import { InferTensorContents } from '../../../../src/generated/grpc_service.js';
import { contentsToBytes } from '../../../../src/transport/grpc/tensor-contents.js';

const contents = (fields: Partial<InferTensorContents>) => InferTensorContents.fromPartial(fields);
const bytes = (datatype: string, fields: Partial<InferTensorContents>) => [...contentsToBytes(contents(fields), 'IN', datatype, 'm')];

/** Little-endian bytes of a typed array, built independently of the code under test. */
function le(size: number, values: readonly (number | bigint)[], write: (view: DataView, offset: number, value: never) => void): number[] {
  const view = new DataView(new ArrayBuffer(size * values.length));
  values.forEach((v, i) => write(view, i * size, v as never));
  return [...new Uint8Array(view.buffer)];
}

function rejects(datatype: string, fields: Partial<InferTensorContents>, id: ErrorId, message: string): void {
  assert.throws(
    () => contentsToBytes(contents(fields), 'IN', datatype, 'm'),
    (err: unknown) => {
      assert.ok(err instanceof InferError);
      assert.equal(err.id, id);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe('contentsToBytes', () => {
  it('BOOL: bool_contents as one byte 0/1 each', () => {
    assert.deepEqual(bytes('BOOL', { boolContents: [true, false, true] }), [1, 0, 1]);
  });

  it('INT8: int_contents narrowed to one byte, two’s complement', () => {
    assert.deepEqual(bytes('INT8', { intContents: [1, -1, 127, -128, 300] }), [1, 0xff, 0x7f, 0x80, 300 & 0xff]);
  });

  it('INT16: int_contents narrowed to two little-endian bytes', () => {
    assert.deepEqual(
      bytes('INT16', { intContents: [1, -2, 0x1234, 70000] }),
      le(2, [1, -2, 0x1234, 70000 & 0xffff], (v, o, x: number) => v.setUint16(o, x & 0xffff, true)),
    );
  });

  it('INT32: int_contents as four little-endian bytes', () => {
    assert.deepEqual(
      bytes('INT32', { intContents: [1, -1, 0x01020304] }),
      le(4, [1, -1, 0x01020304], (v, o, x: number) => v.setInt32(o, x, true)),
    );
  });

  it('INT64: int64_contents (bigint) as eight little-endian bytes', () => {
    const values = [1n, -1n, 9223372036854775807n, -9223372036854775808n];
    assert.deepEqual(
      bytes('INT64', { int64Contents: values }),
      le(8, values, (v, o, x: bigint) => v.setBigInt64(o, x, true)),
    );
  });

  it('UINT8: uint_contents narrowed to one byte', () => {
    assert.deepEqual(bytes('UINT8', { uintContents: [0, 255, 256 + 7] }), [0, 255, 7]);
  });

  it('UINT16: uint_contents narrowed to two little-endian bytes', () => {
    assert.deepEqual(
      bytes('UINT16', { uintContents: [1, 0xabcd, 0x1ffff] }),
      le(2, [1, 0xabcd, 0xffff], (v, o, x: number) => v.setUint16(o, x, true)),
    );
  });

  it('UINT32: uint_contents as four little-endian bytes', () => {
    assert.deepEqual(
      bytes('UINT32', { uintContents: [1, 0xffffffff] }),
      le(4, [1, 0xffffffff], (v, o, x: number) => v.setUint32(o, x, true)),
    );
  });

  it('UINT64: uint64_contents (bigint) as eight little-endian bytes', () => {
    const values = [1n, 18446744073709551615n];
    assert.deepEqual(
      bytes('UINT64', { uint64Contents: values }),
      le(8, values, (v, o, x: bigint) => v.setBigUint64(o, x, true)),
    );
  });

  it('FP32: fp32_contents as IEEE single, little-endian', () => {
    const values = [1.5, -0, 3.4e38, Number.NaN];
    assert.deepEqual(
      bytes('FP32', { fp32Contents: values }),
      le(4, values, (v, o, x: number) => v.setFloat32(o, x, true)),
    );
  });

  it('FP64: fp64_contents as IEEE double, little-endian', () => {
    const values = [Math.PI, -1e300];
    assert.deepEqual(
      bytes('FP64', { fp64Contents: values }),
      le(8, values, (v, o, x: number) => v.setFloat64(o, x, true)),
    );
  });

  it('BYTES: bytes_contents serialized with 4-byte little-endian lengths', () => {
    const out = bytes('BYTES', { bytesContents: [new TextEncoder().encode('hi'), new Uint8Array(0), new Uint8Array([0, 1])] });
    assert.deepEqual(out, [2, 0, 0, 0, 104, 105, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1]);
  });

  it('returns an empty buffer when no field has data', () => {
    assert.equal(contentsToBytes(contents({}), 'IN', 'FP32', 'm').byteLength, 0);
  });

  it('ignores empty fields next to the one that carries the data', () => {
    assert.deepEqual(bytes('BOOL', { boolContents: [true], intContents: [], fp32Contents: [] }), [1]);
  });

  describe('errors', () => {
    it('rejects a contents field that does not match the datatype', () => {
      rejects(
        'FP32',
        { intContents: [1] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'INT32', expected datatype 'FP32'",
      );
      rejects(
        'INT32',
        { int64Contents: [1n] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'INT64', expected datatype 'INT32'",
      );
      rejects(
        'INT8',
        { uintContents: [1] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'UINT32', expected datatype 'INT8'",
      );
      rejects(
        'FP32',
        { bytesContents: [new Uint8Array(1)] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'BYTES', expected datatype 'FP32'",
      );
    });

    it('rejects typed contents for FP16 and BF16, which have no typed field', () => {
      rejects(
        'FP16',
        { fp32Contents: [1] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'FP32', expected datatype 'FP16'",
      );
      rejects(
        'BF16',
        { fp32Contents: [1] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'FP32', expected datatype 'BF16'",
      );
    });

    it('prints an unknown declared datatype as <invalid>', () => {
      rejects(
        'FLOAT',
        { fp32Contents: [1] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm' of type 'FP32', expected datatype '<invalid>'",
      );
    });

    it('rejects data in two contents fields', () => {
      rejects(
        'BOOL',
        { boolContents: [true], intContents: [1] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm', binary data was already supplied.",
      );
      rejects(
        'FP32',
        { fp32Contents: [1], fp64Contents: [2] },
        'INPUT_CONTENTS',
        "unexpected explicit tensor data for input tensor 'IN' for model 'm', binary data was already supplied.",
      );
    });
  });
});
