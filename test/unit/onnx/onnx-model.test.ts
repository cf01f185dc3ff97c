import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataType, graph, model, node, valueInfo } from '../../../src/onnx/graph-builder.js';
import {
  NameScope, cloneModel, defaultOpsetVersion, modelHash, readModel, setDefaultOpsetVersion, stableJson, writeModel,
} from '../../../src/onnx/onnx-model.js';

const tiny = () => model(graph({
  name: 'id',
  inputs: [valueInfo('x', DataType.FLOAT, [1])],
  outputs: [valueInfo('y', DataType.FLOAT, [1])],
  nodes: [node('Identity', ['x'], ['y'], {}, { name: 'id' })],
}));

describe('onnx-model', () => {
  it('reads back what it writes', () => {
    const bytes = writeModel(tiny());
    assert.deepEqual(writeModel(readModel(bytes)), bytes, 'byte-identical round trip');
    assert.throws(() => readModel(Uint8Array.from([0xff, 0xff, 0xff])), /not a valid ONNX model/, 'garbage is refused');
  });

  it('clones deeply', () => {
    const m = tiny();
    const c = cloneModel(m);
    c.graph!.node![0]!.opType = 'Neg';
    assert.equal(m.graph!.node![0]!.opType, 'Identity', 'editing the clone leaves the original');
  });

  it('reads and sets the default opset', () => {
    const m = tiny();
    assert.equal(defaultOpsetVersion(m), 17, 'graph-builder default');
    setDefaultOpsetVersion(m, 13);
    assert.equal(defaultOpsetVersion(m), 13, 'updated');
  });

  it('modelHash: stable for equal settings in any key order, different otherwise', () => {
    const bytes = writeModel(tiny());
    const a = modelHash(bytes, { precision: 'int8', options: { perChannel: true, method: 'minmax' } });
    const b = modelHash(bytes, { options: { method: 'minmax', perChannel: true }, precision: 'int8' });
    assert.match(a, /^[0-9a-f]{64}$/, 'sha256 hex');
    assert.equal(a, b, 'key order does not matter');
    assert.notEqual(a, modelHash(bytes, { precision: 'fp16' }), 'settings matter');
    assert.notEqual(a, modelHash(Uint8Array.from([...bytes, 0]), { precision: 'int8', options: { perChannel: true, method: 'minmax' } }), 'bytes matter');
    assert.equal(stableJson({ b: [1, { d: 1, c: undefined }], a: null }), '{"a":null,"b":[1,{"d":1}]}', 'sorted keys, undefined dropped');
  });

  it('NameScope never hands out a used name', () => {
    const names = new NameScope(tiny());
    assert.equal(names.fresh('x'), 'x_1', 'x is taken');
    assert.equal(names.fresh('x'), 'x_2', 'x_1 is now taken too');
    assert.equal(names.fresh('fresh'), 'fresh', 'unused names are returned as is');
  });
});
