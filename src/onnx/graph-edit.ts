/**
 * Graph surgery shared by the precision transformations: who consumes a
 * tensor, renaming a tensor everywhere (subgraphs included), and turning
 * Constant nodes into initializers so that weights are found in one place.
 */
import onnxProto from 'onnx-proto';

type GraphProto = onnxProto.onnx.IGraphProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;

/** One use of a tensor: input `index` of `node` (-1 when a subgraph of `node` reads it implicitly). */
export interface TensorUse {
  readonly node: NodeProto;
  readonly index: number;
}

/** The subgraphs held by a node's attributes (If branches, Loop/Scan bodies). */
export function subgraphsOf(n: NodeProto): GraphProto[] {
  const out: GraphProto[] = [];
  for (const a of n.attribute ?? []) {
    if (a.g) out.push(a.g);
    for (const g of a.graphs ?? []) out.push(g);
  }
  return out;
}

/** Every tensor name read anywhere inside `g` (node inputs and graph outputs, nested subgraphs included). */
function namesReadIn(g: GraphProto, into: Set<string>): void {
  for (const n of g.node ?? []) {
    for (const i of n.input ?? []) if (i !== '') into.add(i);
    for (const sub of subgraphsOf(n)) namesReadIn(sub, into);
  }
  for (const v of g.output ?? []) into.add(v.name ?? '');
}

/**
 * Consumers of each tensor in `g`: direct node inputs, plus one entry with
 * index -1 for a control-flow node whose subgraph reads the tensor.
 */
export function graphConsumers(g: GraphProto): Map<string, TensorUse[]> {
  const uses = new Map<string, TensorUse[]>();
  const add = (name: string, use: TensorUse): void => {
    const list = uses.get(name);
    if (list === undefined) uses.set(name, [use]);
    else list.push(use);
  };
  for (const n of g.node ?? []) {
    (n.input ?? []).forEach((name, index) => {
      if (name !== '') add(name, { node: n, index });
    });
    const implicit = new Set<string>();
    for (const sub of subgraphsOf(n)) namesReadIn(sub, implicit);
    for (const name of implicit) add(name, { node: n, index: -1 });
  }
  return uses;
}

/** The node producing each tensor of `g`. */
export function graphProducers(g: GraphProto): Map<string, NodeProto> {
  const producers = new Map<string, NodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) if (o !== '') producers.set(o, n);
  return producers;
}

/**
 * Renames tensor `from` to `to` in `g`: node inputs and outputs, initializers
 * and value_info, and every reference inside subgraphs (their outputs too).
 * `g`'s own graph inputs and outputs are left alone, so a caller can re-bind them.
 */
export function renameTensor(g: GraphProto, from: string, to: string): void {
  const visit = (graph: GraphProto, isRoot: boolean): void => {
    for (const n of graph.node ?? []) {
      n.input = (n.input ?? []).map((i) => (i === from ? to : i));
      n.output = (n.output ?? []).map((o) => (o === from ? to : o));
      for (const sub of subgraphsOf(n)) visit(sub, false);
    }
    for (const t of graph.initializer ?? []) if (t.name === from) t.name = to;
    for (const v of graph.valueInfo ?? []) if (v.name === from) v.name = to;
    if (!isRoot) for (const v of graph.output ?? []) if (v.name === from) v.name = to;
  };
  visit(g, true);
}

/** The initializer named `name` in `g`, if any. */
export function findInitializer(g: GraphProto, name: string): TensorProto | undefined {
  return (g.initializer ?? []).find((t) => t.name === name);
}

/**
 * Replaces each top-level `Constant` node holding a `value` tensor by an
 * initializer of the same name (ONNX Runtime does the same when it loads a
 * model). Exporters such as paddle2onnx store every weight this way, so the
 * quantizers look for weights among initializers only. Needs IR version >= 4,
 * where initializers need not be graph inputs.
 * @returns the number of constants lifted.
 */
export function liftConstants(g: GraphProto): number {
  const kept: NodeProto[] = [];
  const inits = g.initializer ?? (g.initializer = []);
  let lifted = 0;
  for (const n of g.node ?? []) {
    const value = (n.attribute ?? []).length === 1 ? n.attribute?.[0] : undefined;
    const out = n.output?.[0];
    if (n.opType === 'Constant' && (n.domain ?? '') === '' && value?.name === 'value' && value.t && out) {
      value.t.name = out;
      inits.push(value.t);
      lifted++;
    } else kept.push(n);
  }
  g.node = kept;
  return lifted;
}
