import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import type { DataType } from '../core/data-type.js';

const { onnx } = onnxProto;

/** One graph input or output as the ONNX file declares it. */
export interface OnnxTensorInfo {
  readonly name: string;
  /** Protocol datatype, or undefined when the ONNX type has no protocol equivalent. */
  readonly datatype: DataType | undefined;
  /** ONNX TensorProto.DataType number, kept for messages. */
  readonly elemType: number;
  /** -1 for a symbolic or unknown dim; undefined shape when the graph declares none. */
  readonly dims: readonly number[] | undefined;
}

/** The interface of an ONNX model: its real inputs (initializers excluded) and outputs. */
export interface OnnxMetadata {
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly inputs: readonly OnnxTensorInfo[];
  readonly outputs: readonly OnnxTensorInfo[];
}

/** ONNX TensorProto.DataType -> protocol datatype. */
const ELEM_TYPES: ReadonlyMap<number, DataType> = new Map<number, DataType>([
  [1, 'FP32'],
  [2, 'UINT8'],
  [3, 'INT8'],
  [4, 'UINT16'],
  [5, 'INT16'],
  [6, 'INT32'],
  [7, 'INT64'],
  [8, 'BYTES'],
  [9, 'BOOL'],
  [10, 'FP16'],
  [11, 'FP64'],
  [12, 'UINT32'],
  [13, 'UINT64'],
  [16, 'BF16'],
]);

/** Protocol datatype of an ONNX element type number, if it has one. */
export function dataTypeOfElemType(elemType: number): DataType | undefined {
  return ELEM_TYPES.get(elemType);
}

/** Reads the graph interface of an ONNX file. Throws with a plain message if it is not ONNX. */
export async function readOnnxMetadata(path: string): Promise<OnnxMetadata> {
  const bytes = await readFile(path);
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new Error(`'${path}' is not a valid ONNX model: ${(err as Error).message}`);
  }
  const graph = model.graph;
  if (graph === null || graph === undefined) throw new Error(`'${path}' has no graph`);
  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const defaultOpset = (model.opsetImport ?? []).find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  return {
    irVersion: toNumber(model.irVersion),
    opsetVersion: toNumber(defaultOpset?.version),
    inputs: (graph.input ?? []).filter((v) => !initializers.has(v.name ?? '')).map(tensorInfo),
    outputs: (graph.output ?? []).map(tensorInfo),
  };
}

function tensorInfo(value: onnxProto.onnx.IValueInfoProto): OnnxTensorInfo {
  const tensorType = value.type?.tensorType;
  const elemType = tensorType?.elemType ?? 0;
  const shape = tensorType?.shape;
  return {
    name: value.name ?? '',
    datatype: dataTypeOfElemType(elemType),
    elemType,
    dims:
      shape === null || shape === undefined
        ? undefined
        : (shape.dim ?? []).map((d) => dimValue(d as onnxProto.onnx.TensorShapeProto.Dimension)),
  };
}

/** A fixed dim's value, or -1 for a symbolic or unset one (decoded messages expose the oneof as `value`). */
function dimValue(dim: onnxProto.onnx.TensorShapeProto.Dimension): number {
  return dim.value === 'dimValue' ? toNumber(dim.dimValue) : -1;
}

function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
