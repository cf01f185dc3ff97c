import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ControlTensor } from '../../../src/core/sequence-policy.js';
import { splitBytesElements } from '../../../src/core/tensor.js';
import { checkCorrelationId, controlTensor, type ControlRow } from '../../../src/scheduler/control-tensors.js';

const ROWS: ControlRow[] = [
  { start: true, end: false, ready: true, corrid: { kind: 'uint64', value: 1000n } },
  { start: false, end: false, ready: false, corrid: undefined },
  { start: false, end: true, ready: true, corrid: { kind: 'string', value: '42' } },
];

describe('control tensors', () => {
  it('carry the configured [false, true] values in INT32, FP32 and BOOL, shaped [rows, 1] when batching', () => {
    const start = controlTensor({ name: 'S', kind: 'start', datatype: 'INT32', falseTrue: [0, 1] }, ROWS, true);
    assert.deepEqual(start.shape, [3, 1]);
    assert.deepEqual(Array.from(new Int32Array(start.data.buffer)), [1, 0, 0]);
    const ready = controlTensor({ name: 'R', kind: 'ready', datatype: 'FP32', falseTrue: [-1, 2.5] }, ROWS, true);
    assert.deepEqual(Array.from(new Float32Array(ready.data.buffer)), [2.5, -1, 2.5]);
    const end = controlTensor({ name: 'E', kind: 'end', datatype: 'BOOL', falseTrue: [0, 1] }, ROWS, false);
    assert.deepEqual(end.shape, [1]);
    assert.deepEqual(Array.from(end.data), [0, 0, 1]);
  });

  it('carry CORRID in its data_type: 0 (or "0") on padding rows, a string ID parsed for numeric types, low bytes kept as Triton copies them', () => {
    const corrid = (datatype: ControlTensor['datatype']) => controlTensor({ name: 'C', kind: 'corrid', datatype }, ROWS, true).data;
    assert.deepEqual(Array.from(new BigUint64Array(corrid('UINT64').buffer)), [1000n, 0n, 42n]);
    assert.deepEqual(Array.from(new Int32Array(corrid('INT32').buffer)), [1000, 0, 42]);
    assert.deepEqual(splitBytesElements(corrid('BYTES')).map((b) => Buffer.from(b).toString()), ['1000', '0', '42']);
    const wide: ControlRow[] = [{ start: false, end: false, ready: true, corrid: { kind: 'uint64', value: (1n << 32n) + 7n } }];
    assert.deepEqual(Array.from(new Uint32Array(controlTensor({ name: 'C', kind: 'corrid', datatype: 'UINT32' }, wide, true).data.buffer)), [7]);
  });

  it('refuse a string ID that is no number for a numeric CORRID, and accept any ID for a string one', () => {
    const numeric: ControlTensor[] = [{ name: 'C', kind: 'corrid', datatype: 'UINT64' }];
    assert.throws(() => checkCorrelationId(numeric, { kind: 'string', value: 'x1' }, 'm'), { id: 'SEQUENCE_ID_INVALID' });
    assert.throws(() => checkCorrelationId(numeric, { kind: 'string', value: '18446744073709551616' }, 'm'), { id: 'SEQUENCE_ID_INVALID' });
    checkCorrelationId(numeric, { kind: 'string', value: '18446744073709551615' }, 'm');
    checkCorrelationId([{ name: 'C', kind: 'corrid', datatype: 'BYTES' }], { kind: 'string', value: 'x1' }, 'm');
    checkCorrelationId([], { kind: 'string', value: 'x1' }, 'm');
  });
});
