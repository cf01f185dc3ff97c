/**
 * A small, typed builder for ONNX models, layered over the protobufjs
 * classes of `onnx-proto`. It is used to generate example and test models in
 * code, so that no binary fixtures need to be committed.
 *
 * Every helper returns plain protobuf "interface" objects (`onnx.I*Proto`)
 * whose fields are set in a fixed order, and {@link encodeModel} serialises
 * them with the generated (field-number ordered) encoders, so the same inputs
 * always produce the same bytes.
 *
 * @example
 * const g = graph({
 *   name: 'add',
 *   inputs: [valueInfo('A', DataType.FLOAT, ['N', 3]), valueInfo('B', DataType.FLOAT, ['N', 3])],
 *   outputs: [valueInfo('C', DataType.FLOAT, ['N', 3])],
 *   nodes: [node('Add', ['A', 'B'], ['C'])],
 * });
 * const bytes = encodeModel(model(g));
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ModelProto = onnxProto.onnx.IModelProto;
export type GraphProto = onnxProto.onnx.IGraphProto;
export type NodeProto = onnxProto.onnx.INodeProto;
export type TensorProto = onnxProto.onnx.ITensorProto;
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
export type AttributeProto = onnxProto.onnx.IAttributeProto;

/** ONNX `TensorProto.DataType` element-type codes. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;
export type DataTypeName = keyof typeof DataType;
export type DataType = (typeof DataType)[DataTypeName];

/** Numeric data a tensor can be built from (its raw bytes are stored). */
export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A tensor dimension: a fixed size, or a symbolic `dim_param` name. */
export type Dim = number | string;

/**
 * The ONNX element type for a data-type name (`'FLOAT'`), or the natural one
 * for a typed array / string array (`Float32Array` -> FLOAT, `string[]` -> STRING).
 * `Uint8Array` maps to UINT8 and `Uint16Array` to UINT16; pass an explicit type
 * for BOOL, FLOAT16 or BFLOAT16 data.
 */
export function elemTypeOf(x: DataTypeName | NumericArray | readonly string[]): DataType {
  if (typeof x === 'string') return DataType[x];
  if (Array.isArray(x)) return DataType.STRING;
  if (x instanceof Float32Array) return DataType.FLOAT;
  if (x instanceof Float64Array) return DataType.DOUBLE;
  if (x instanceof Int8Array) return DataType.INT8;
  if (x instanceof Uint8Array) return DataType.UINT8;
  if (x instanceof Int16Array) return DataType.INT16;
  if (x instanceof Uint16Array) return DataType.UINT16;
  if (x instanceof Int32Array) return DataType.INT32;
  if (x instanceof Uint32Array) return DataType.UINT32;
  if (x instanceof BigInt64Array) return DataType.INT64;
  if (x instanceof BigUint64Array) return DataType.UINT64;
  throw new TypeError('elemTypeOf: unsupported data');
}

const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The bytes of a typed array in little-endian order (ONNX `raw_data` layout). */
function littleEndianBytes(data: NumericArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const width = data.BYTES_PER_ELEMENT;
  if (!hostIsLittleEndian && width > 1) {
    for (let off = 0; off < bytes.length; off += width) bytes.subarray(off, off + width).reverse();
  }
  return bytes;
}

/** A `TensorShapeProto` from dims (`undefined` = unknown rank, `[]` = scalar). */
function shapeOf(dims: readonly Dim[]): onnxProto.onnx.ITensorShapeProto {
  return { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
}

/**
 * A graph input/output (or `value_info`) entry for a tensor.
 * @param dims Fixed sizes and/or `dim_param` names; omit for an unknown shape.
 */
export function valueInfo(name: string, elemType: DataType, dims?: readonly Dim[]): ValueInfoProto {
  const tensorType: onnxProto.onnx.TypeProto.ITensor = { elemType };
  if (dims !== undefined) tensorType.shape = shapeOf(dims);
  return { name, type: { tensorType } };
}

/**
 * A constant tensor, for graph initializers and `tensor` attributes. Numeric
 * data is stored as little-endian `raw_data`; strings are UTF-8 `string_data`.
 * @param dims Tensor shape; defaults to 1-D of the data's length (use `[]` for a scalar).
 * @param elemType Overrides the type inferred from `data` (e.g. BOOL for a Uint8Array).
 */
export function tensor(
  name: string,
  data: NumericArray | readonly string[],
  dims: readonly number[] = [data.length],
  elemType: DataType = elemTypeOf(data),
): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new RangeError(`tensor ${name}: dims [${dims.join(',')}] hold ${count} elements, data has ${data.length}`);
  }
  const t: TensorProto = { dims: [...dims], dataType: elemType, name };
  if (Array.isArray(data)) {
    const encoder = new TextEncoder();
    t.stringData = (data as readonly string[]).map((s) => encoder.encode(s));
  } else {
    t.rawData = littleEndianBytes(data as NumericArray);
  }
  return t;
}

/** A typed attribute value; build one with the {@link attr} helpers. */
export type AttrValue = Omit<AttributeProto, 'name'>;

/** Constructors for typed node attribute values. */
export const attr = {
  int: (i: number): AttrValue => ({ type: onnx.AttributeProto.AttributeType.INT, i }),
  ints: (ints: readonly number[]): AttrValue => ({ type: onnx.AttributeProto.AttributeType.INTS, ints: [...ints] }),
  float: (f: number): AttrValue => ({ type: onnx.AttributeProto.AttributeType.FLOAT, f }),
  floats: (floats: readonly number[]): AttrValue => ({ type: onnx.AttributeProto.AttributeType.FLOATS, floats: [...floats] }),
  string: (s: string): AttrValue => ({ type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(s) }),
  tensor: (t: TensorProto): AttrValue => ({ type: onnx.AttributeProto.AttributeType.TENSOR, t }),
  /** A subgraph, e.g. the `body` of a Loop or the branches of an If. */
  graph: (g: GraphProto): AttrValue => ({ type: onnx.AttributeProto.AttributeType.GRAPH, g }),
} as const;

/** Optional node settings. */
export interface NodeOptions {
  /** Node name (unique within its graph); empty if omitted. */
  name?: string;
  /** Operator domain; defaults to the standard `""` domain. */
  domain?: string;
}

/**
 * A graph node. Use `''` for an omitted optional input.
 * @param attrs Attributes by name, in insertion order, e.g. `{ to: attr.int(DataType.INT32) }`.
 */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Readonly<Record<string, AttrValue>> = {},
  options: NodeOptions = {},
): NodeProto {
  const n: NodeProto = { input: [...inputs], output: [...outputs], opType };
  if (options.name !== undefined) n.name = options.name;
  if (options.domain !== undefined) n.domain = options.domain;
  const attribute = Object.entries(attrs).map(([name, value]) => ({ name, ...value }));
  if (attribute.length > 0) n.attribute = attribute;
  return n;
}

/** Parts of a graph; nodes must be listed in topological order. */
export interface GraphSpec {
  name: string;
  nodes: readonly NodeProto[];
  inputs: readonly ValueInfoProto[];
  outputs: readonly ValueInfoProto[];
  initializers?: readonly TensorProto[];
  valueInfo?: readonly ValueInfoProto[];
}

/** A graph (the main graph of a model, or a subgraph for a `graph` attribute). */
export function graph(spec: GraphSpec): GraphProto {
  return {
    node: [...spec.nodes],
    name: spec.name,
    initializer: [...(spec.initializers ?? [])],
    input: [...spec.inputs],
    output: [...spec.outputs],
    valueInfo: [...(spec.valueInfo ?? [])],
  };
}

/** Optional model metadata. */
export interface ModelOptions {
  /** Opset imports; defaults to `[{ domain: '', version: 17 }]`. */
  opsets?: readonly { domain: string; version: number }[];
  /** Defaults to 8. */
  irVersion?: number;
  /** Defaults to `"nereid"`. */
  producerName?: string;
  docString?: string;
}

/** A model wrapping `g`: IR version 8, default opset 17, producer "nereid". */
export function model(g: GraphProto, options: ModelOptions = {}): ModelProto {
  const m: ModelProto = {
    irVersion: options.irVersion ?? 8,
    producerName: options.producerName ?? 'nereid',
    graph: g,
    opsetImport: (options.opsets ?? [{ domain: '', version: 17 }]).map((o) => ({ domain: o.domain, version: o.version })),
  };
  if (options.docString !== undefined) m.docString = options.docString;
  return m;
}

/** Serialises a model to ONNX protobuf bytes (deterministic for equal input). */
export function encodeModel(m: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(m).finish();
}
