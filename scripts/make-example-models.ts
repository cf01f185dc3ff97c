/**
 * Writes the example model repository (Triton layout) used for demos and
 * client compatibility checks:
 *
 * - `simple`          INT32  OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1
 * - `simple_int8`     the same on INT8 tensors (computed in INT32, cast back)
 * - `simple_string`   the same on STRING tensors holding decimal numbers
 * - `simple_identity` STRING OUTPUT0 = INPUT0, variable length (identity backend)
 *
 * Usage: npx tsx scripts/make-example-models.ts [outDir]   (default: models/)
 * Output is deterministic: re-running produces byte-identical files.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { DataType, attr, encodeModel, graph, model, node, valueInfo } from '../src/onnx/graph-builder.js';
import { isMain, writeModel, type ModelConfig } from './lib/model-repo.js';

const BATCH = 'batch';

/** Config for a two-input / two-output "simple" model of the given Triton type. */
function simpleConfig(name: string, tritonType: string): ModelConfig {
  const t = (n: string) => ({ name: n, dataType: tritonType, dims: [16] });
  return { name, maxBatchSize: 8, inputs: [t('INPUT0'), t('INPUT1')], outputs: [t('OUTPUT0'), t('OUTPUT1')] };
}

/**
 * A "simple" model on `elemType` tensors of shape [batch, 16]. Unless the type
 * is INT32 the inputs are cast to INT32, added/subtracted, and cast back.
 */
function simpleModel(elemType: DataType): Uint8Array {
  const io = (n: string) => valueInfo(n, elemType, [BATCH, 16]);
  const native = elemType === DataType.INT32;
  const [a, b] = native ? ['INPUT0', 'INPUT1'] : ['a32', 'b32'];
  const [sum, diff] = native ? ['OUTPUT0', 'OUTPUT1'] : ['sum32', 'diff32'];
  const nodes = [
    ...(native
      ? []
      : [
          node('Cast', ['INPUT0'], [a], { to: attr.int(DataType.INT32) }),
          node('Cast', ['INPUT1'], [b], { to: attr.int(DataType.INT32) }),
        ]),
    node('Add', [a, b], [sum]),
    node('Sub', [a, b], [diff]),
    ...(native
      ? []
      : [
          node('Cast', [sum], ['OUTPUT0'], { to: attr.int(elemType) }),
          node('Cast', [diff], ['OUTPUT1'], { to: attr.int(elemType) }),
        ]),
  ];
  const g = graph({
    name: 'simple',
    nodes,
    inputs: [io('INPUT0'), io('INPUT1')],
    outputs: [io('OUTPUT0'), io('OUTPUT1')],
  });
  return encodeModel(model(g));
}

/** Writes the example models under `outDir`; returns the model directories written. */
export async function makeExampleModels(outDir: string): Promise<string[]> {
  const written: string[] = [];
  const add = async (name: string, bytes: Uint8Array | null, config: ModelConfig) => {
    written.push(await writeModel(outDir, name, bytes, config));
  };
  // Dynamic batching on the INT32 model: concurrent clients share executions (and thread hops).
  await add('simple', simpleModel(DataType.INT32), { ...simpleConfig('simple', 'TYPE_INT32'), extra: 'dynamic_batching { }' });
  await add('simple_int8', simpleModel(DataType.INT8), simpleConfig('simple_int8', 'TYPE_INT8'));
  await add('simple_string', simpleModel(DataType.STRING), simpleConfig('simple_string', 'TYPE_STRING'));
  // Identity backend, not ONNX: onnxruntime-node cuts input strings at NUL bytes, and
  // Triton's clients send NULs to simple_identity (Triton itself uses a Python model).
  await add('simple_identity', null, {
    name: 'simple_identity',
    backend: 'identity',
    maxBatchSize: 8,
    inputs: [{ name: 'INPUT0', dataType: 'TYPE_STRING', dims: [-1] }],
    outputs: [{ name: 'OUTPUT0', dataType: 'TYPE_STRING', dims: [-1] }],
  });
  return written;
}

if (isMain(import.meta.url)) {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const outDir = path.resolve(process.argv[2] ?? path.join(repoRoot, 'models'));
  for (const dir of await makeExampleModels(outDir)) console.log(`wrote ${dir}`);
}
