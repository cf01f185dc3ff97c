import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResultMessage, RunMessage } from '../../../src/instance/messages.js';
import { isResultWire, isRunWire, packResult, packRun, unpackResult, unpackRun } from '../../../src/instance/run-wire.js';

const buffer = new ArrayBuffer(64);
const returned = new ArrayBuffer(32);

describe('run-wire', () => {
  it('carries a run through its flat form unchanged, buffers by identity', () => {
    const run: RunMessage = {
      type: 'run',
      runId: 7,
      inputs: [
        { name: 'INPUT0', datatype: 'INT32', shape: [4, 16], buffer, byteOffset: 0, byteLength: 256 },
        { name: 'S', datatype: 'FP32', shape: [], buffer, byteOffset: 8, byteLength: 4 },
      ],
      outputNames: ['OUTPUT0', 'OUTPUT1'],
      variant: 'fp16',
      decoupled: true,
      returned: [returned],
      profile: { id: 'p1', filePrefix: '/tmp/x' },
    };
    const wire = packRun(run);
    assert.ok(isRunWire(wire));
    assert.ok(wire.every((v) => v === null || typeof v !== 'object' || v instanceof ArrayBuffer || v === run.profile), 'no objects but buffers and the ticket');
    const back = unpackRun(wire);
    assert.deepEqual(back, run);
    assert.equal(back.inputs[1]!.buffer, buffer);
    assert.equal(back.returned![0], returned);
  });

  it('leaves out returned buffers and the profile when a run has none', () => {
    const run: RunMessage = { type: 'run', runId: 1, inputs: [], outputNames: [], variant: 'fp32', decoupled: false };
    assert.deepEqual(unpackRun(packRun(run)), run);
  });

  it('carries a result through its flat form unchanged, and tells it from a run', () => {
    const result: ResultMessage = {
      type: 'result',
      runId: 3,
      outputs: [{ name: 'Y', datatype: 'BYTES', shape: [2, 1], buffer, byteOffset: 16, byteLength: 12 }],
      inputBuffers: [returned],
      compute: { start: 1.5, end: 2.25 },
    };
    const wire = packResult(result);
    assert.ok(isResultWire(wire));
    assert.equal(isResultWire(packRun({ type: 'run', runId: 3, inputs: [], outputNames: [], variant: 'fp32', decoupled: false })), false);
    assert.deepEqual(unpackResult(wire), result);
  });
});
