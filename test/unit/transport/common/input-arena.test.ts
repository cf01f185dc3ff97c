import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputArena } from '../../../../src/transport/common/input-arena.js';
import { identityModel, makeRequest, readFloat32 } from '../../../helpers/scheduler-fakes.js';

const model = identityModel(8);

describe('InputArena', () => {
  it('copies a large request out of its message: same values, no view of the message left', () => {
    const arena = new InputArena(1 << 20);
    const request = makeRequest(model, 7, { rows: 4, width: 4096 });
    const message = request.inputs[0]!.tensor.data.buffer;
    const held = arena.hold(request);
    const tensors = [...held.request.inputs.map((i) => i.tensor.data), ...held.request.request.inputs.map((t) => t.data)];
    for (const data of tensors) {
      assert.notEqual(data.buffer, message);
      assert.deepEqual(readFloat32(data), readFloat32(request.inputs[0]!.tensor.data));
    }
    assert.equal(held.request.inputs[0]!.tensor.data, held.request.request.inputs[0]!.data);
    assert.equal(held.request.batchSize, request.batchSize);
  });

  it('leaves small requests and sequence requests as they are', () => {
    const arena = new InputArena(1 << 20);
    const small = makeRequest(model, 1);
    assert.equal(arena.hold(small).request, small);
    const sequence = makeRequest(model, 2, { rows: 4, width: 4096, sequence: { id: 5, start: true } });
    assert.equal(arena.hold(sequence).request, sequence);
  });

  it('reuses a buffer once it is released, and keeps at most its bound', () => {
    const arena = new InputArena(64 * 1024);
    const first = arena.hold(makeRequest(model, 1, { rows: 4, width: 4096 }));
    const buffer = first.request.inputs[0]!.tensor.data.buffer;
    first.release();
    first.release();
    assert.equal(arena.retainedBytes, 64 * 1024);
    const second = arena.hold(makeRequest(model, 2, { rows: 4, width: 4096 }));
    assert.equal(second.request.inputs[0]!.tensor.data.buffer, buffer);
    assert.equal(arena.retainedBytes, 0);
    const third = arena.hold(makeRequest(model, 3, { rows: 4, width: 4096 }));
    second.release();
    third.release();
    assert.equal(arena.retainedBytes, 64 * 1024, 'the second buffer is past the bound and dropped');
  });
});
