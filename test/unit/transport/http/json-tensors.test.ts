import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError } from '../../../../src/core/errors.js';
import { bytesToJsonText, elementsToBytes, flattenData } from '../../../../src/transport/http/json-tensors.js';

const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

describe('JSON tensor data', () => {
  it('flattens nested data in row-major order, and stops past the element limit', () => {
    assert.deepEqual(flattenData([[1, 2], [3, [4]]], 10), [1, 2, 3, 4]);
    assert.deepEqual(flattenData(7, 10), [7], 'a scalar');
    assert.equal(flattenData([[1, 2], [3, 4]], 3), undefined);
  });

  it('BF16 rounds to nearest even and reads back its value', () => {
    const encoded = elementsToBytes('BF16', [1.5, -2, 3.14159, 1 + 2 ** -8], 'x');
    assert.deepEqual([...new Uint16Array(encoded.slice().buffer)], [0x3fc0, 0xc000, 0x4049, 0x3f80], '1 + 2^-8 ties to the even 1.0');
    assert.equal(bytesToJsonText('BF16', encoded), '[1.5,-2,3.140625,1]');
  });

  it('FP16 saturates to infinity past its range; non-finite values are written as null', () => {
    const encoded = elementsToBytes('FP16', [70000, 1], 'x');
    assert.equal(bytesToJsonText('FP16', encoded), '[null,1]');
    assert.equal(bytesToJsonText('FP32', bytes(new Float32Array([NaN, 2]))), '[null,2]');
  });

  it('reads unaligned views (binary outputs after an odd-length JSON)', () => {
    const buffer = new Uint8Array(9);
    buffer.set(bytes(new Int32Array([-5, 6])), 1);
    assert.equal(bytesToJsonText('INT32', buffer.subarray(1)), '[-5,6]');
  });

  it('refuses an element of the wrong type or out of range, naming it', () => {
    const refuse = (datatype: Parameters<typeof elementsToBytes>[0], elements: unknown[], message: string) =>
      assert.throws(() => elementsToBytes(datatype, elements, "input 'I'"), (err: unknown) => err instanceof InferError && err.id === 'INPUT_CONTENTS' && err.message === message);
    refuse('BOOL', [1], "unable to parse 'data' of input 'I': element 0 is 1, expected true or false");
    refuse('UINT8', [1, 256], "unable to parse 'data' of input 'I': element 1 is 256, expected an integer from 0 to 255 (UINT8)");
    refuse('INT64', [1.5], "unable to parse 'data' of input 'I': element 0 is 1.5, expected an integer (INT64)");
    refuse('UINT64', ['-1'], 'unable to parse \'data\' of input \'I\': element 0 is "-1", expected an integer (UINT64)');
    refuse('FP32', ['1'], 'unable to parse \'data\' of input \'I\': element 0 is "1", expected a number (FP32)');
    refuse('BYTES', [5], "unable to parse 'data' of input 'I': element 0 is 5, expected a string (BYTES)");
  });
});
