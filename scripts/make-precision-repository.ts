/**
 * Writes the generated MLP models that exercise per-request precision (Triton layout):
 *
 * - `mlp`         x [N,768] -> y [N,768]: 4 fully connected 768x768 layers (MatMul + Add,
 *                 ReLU between), serving fp32, fp16 and int8 (dynamic), samples generated.
 * - `mlp_strict`  the same graph with max_relative_error 1e-7, which neither fp16 nor
 *                 int8 can meet: both are reported and not served.
 *
 * Usage: npx tsx scripts/make-precision-repository.ts <outDir>
 */
import path from 'node:path';
import { encodeModel } from '../src/onnx/graph-builder.js';
import { isMain, type ModelConfig, writeModel } from './lib/model-repo.js';
import { buildMlp } from './lib/mlp-model.js';

const HIDDEN = 768;

function mlpConfig(name: string, parameters: Record<string, string>): ModelConfig {
  return {
    name,
    maxBatchSize: 8,
    inputs: [{ name: 'x', dataType: 'TYPE_FP32', dims: [HIDDEN] }],
    outputs: [{ name: 'y', dataType: 'TYPE_FP32', dims: [HIDDEN] }],
    extra: 'dynamic_batching { }',
    parameters: { precision_variants: 'fp32,fp16,int8', int8_mode: 'dynamic', sample_range: '-1,1', ...parameters },
  };
}

/** Writes `mlp` and `mlp_strict` under `outDir`; returns the model directories. `int8Format` sets mlp's int8_format. */
export async function makePrecisionRepository(outDir: string, int8Format = 'auto'): Promise<string[]> {
  const bytes = encodeModel(buildMlp({ layers: 4, hidden: HIDDEN }));
  return [
    await writeModel(outDir, 'mlp', bytes, mlpConfig('mlp', { int8_format: int8Format })),
    await writeModel(outDir, 'mlp_strict', bytes, mlpConfig('mlp_strict', { max_relative_error: '1e-7', calibration_batches: '2', validation_batches: '2' })),
  ];
}

if (isMain(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: npx tsx scripts/make-precision-repository.ts <outDir>');
    process.exit(2);
  }
  for (const dir of await makePrecisionRepository(path.resolve(outDir))) console.log(`wrote ${dir}`);
}
