/**
 * Structural checks for generated ONNX models: what the ONNX checker would
 * reject first (undefined inputs, out-of-order nodes, duplicate outputs), plus
 * lookups used by the assertions of the precision tests.
 */
import assert from 'node:assert/strict';
import type { GraphProto, ModelProto, NodeProto, TensorProto } from '../../../src/onnx/graph-builder.js';
import { readModel, toNumber, writeModel } from '../../../src/onnx/onnx-model.js';
import { subgraphsOf } from '../../../src/onnx/graph-edit.js';

/** Asserts `m` survives a protobuf round trip and every graph is in SSA, topological order. */
export function assertWellFormed(m: ModelProto): void {
  const decoded = readModel(writeModel(m));
  const visit = (g: GraphProto, outer: ReadonlySet<string>, where: string): void => {
    const defined = new Set<string>(outer);
    for (const v of g.input ?? []) defined.add(v.name ?? '');
    for (const t of g.initializer ?? []) defined.add(t.name ?? '');
    for (const n of g.node ?? []) {
      for (const i of n.input ?? []) {
        if (i !== '') assert.ok(defined.has(i), `${where}: node '${n.name}' (${n.opType}) reads '${i}' before it is defined`);
      }
      for (const sub of subgraphsOf(n)) visit(sub, defined, `${where}/${n.name}`);
      for (const o of n.output ?? []) {
        if (o === '') continue;
        assert.ok(!defined.has(o), `${where}: '${o}' is defined twice`);
        defined.add(o);
      }
    }
    for (const v of g.output ?? []) assert.ok(defined.has(v.name ?? ''), `${where}: graph output '${v.name}' is never produced`);
  };
  visit(decoded.graph!, new Set(), 'main');
}

/** The nodes of `g` with op type `op`. */
export function nodesOf(g: GraphProto, op: string): NodeProto[] {
  return (g.node ?? []).filter((n) => n.opType === op);
}

/** The node of `g` that produces `name` (assertion failure if none). */
export function producerOf(g: GraphProto, name: string): NodeProto {
  const n = (g.node ?? []).find((x) => (x.output ?? []).includes(name));
  assert.ok(n !== undefined, `no node produces '${name}'`);
  return n;
}

/** The initializer named `name` (assertion failure if none). */
export function initializerOf(g: GraphProto, name: string): TensorProto {
  const t = (g.initializer ?? []).find((x) => x.name === name);
  assert.ok(t !== undefined, `no initializer '${name}'`);
  return t;
}

/** An INT attribute's value. */
export function intAttrOf(n: NodeProto, name: string): number | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a === undefined ? undefined : toNumber(a.i);
}

/** The element type declared for a graph input/output/value_info entry. */
export function declaredType(list: GraphProto['input'], name: string): number | undefined {
  return (list ?? []).find((v) => v.name === name)?.type?.tensorType?.elemType ?? undefined;
}
