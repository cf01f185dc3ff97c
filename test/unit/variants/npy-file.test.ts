import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readNpy, writeNpy } from '../../../src/variants/npy-file.js';

describe('npy files', () => {
  it('round-trips float32 arrays with a 64-byte aligned header', () => {
    const data = Float32Array.from([1.5, -2, 3.25, 0, 1e-8, 65504]);
    const bytes = writeNpy({ data, dims: [2, 3] });
    assert.equal((10 + new DataView(bytes.buffer).getUint16(8, true)) % 64, 0);
    const back = readNpy(bytes);
    assert.deepEqual(back.dims, [2, 3]);
    assert.deepEqual(Array.from(back.data), Array.from(data));
    assert.deepEqual(readNpy(writeNpy({ data: Float32Array.from([7]), dims: [1] })).dims, [1]);
  });

  it('reads what numpy.save writes for float64 (converted) and refuses what it cannot read', () => {
    // numpy.save(np.array([[1.0, 2.0]])) with dtype float64
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }";
    const padded = header.padEnd(64 - 11, ' ') + '\n';
    const bytes = new Uint8Array(10 + padded.length + 16);
    bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(bytes.buffer).setUint16(8, padded.length, true);
    bytes.set(new TextEncoder().encode(padded), 10);
    new DataView(bytes.buffer).setFloat64(10 + padded.length, 1, true);
    new DataView(bytes.buffer).setFloat64(18 + padded.length, 2, true);
    assert.deepEqual(Array.from(readNpy(bytes).data), [1, 2]);

    assert.throws(() => readNpy(new Uint8Array([1, 2, 3]), 'sample a'), /^Error: sample a is not a \.npy file$/);
    const ints = writeNpy({ data: Float32Array.from([1, 2]), dims: [2] });
    const text = new TextDecoder('latin1').decode(ints).replace("'<f4'", "'<i4'");
    assert.throws(() => readNpy(Uint8Array.from(text, (c) => c.charCodeAt(0)), 'sample b'), /sample b: dtype '<i4' is not supported; save float32/);
    assert.throws(() => readNpy(ints.subarray(0, ints.length - 4), 'sample c'), /sample c: shape \(2\) needs 8 bytes of data, the file has 4/);
  });
});
