import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import type { SampleInputSpec, SampleSource } from '../core/precision.js';
import type { CalibrationFeeds } from '../onnx/calibration.js';
import { readNpy } from './npy-file.js';

/**
 * Calibration and validation samples: batches of FP32 inputs, read from a folder of .npy
 * files or generated from a seeded uniform distribution. Worker thread only (reads files).
 */
export async function loadSamples(
  source: SampleSource,
  generated: { readonly inputs: readonly SampleInputSpec[]; readonly range: readonly [number, number] },
  inputNames: readonly string[],
): Promise<CalibrationFeeds[]> {
  if (source.kind === 'generated') return generateSamples(generated.inputs, generated.range, source.batches, source.seed);
  return readSampleFolder(source.path, inputNames);
}

/** `batches` batches of every input, values uniform in [low, high), the same for the same seed. */
export function generateSamples(inputs: readonly SampleInputSpec[], range: readonly [number, number], batches: number, seed: number): CalibrationFeeds[] {
  const random = seededRandom(seed);
  const [low, high] = range;
  return Array.from({ length: batches }, () => {
    const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const input of inputs) {
      const data = new Float32Array(input.dims.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * random();
      feeds[input.name] = { data, dims: [...input.dims] };
    }
    return feeds;
  });
}

/**
 * Reads `<dir>/<sample>/<input>.npy` for every input, or `<dir>/<sample>.npy` when the
 * model has one input; samples in name order. Each array is one batch as the model sees
 * it (batch dimension included).
 */
export async function readSampleFolder(dir: string, inputNames: readonly string[]): Promise<CalibrationFeeds[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw new Error(`cannot read sample folder '${dir}': ${(err as Error).message}`);
  }
  const samples: CalibrationFeeds[] = [];
  for (const entry of entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    const where = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      const feeds: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
      for (const name of inputNames) feeds[name] = await readArray(path.join(where, `${name}.npy`));
      samples.push(feeds);
    } else if (entry.name.endsWith('.npy')) {
      if (inputNames.length !== 1) {
        throw new Error(`sample '${where}': a model with several inputs needs one folder per sample holding <input>.npy files`);
      }
      samples.push({ [inputNames[0]!]: await readArray(where) });
    }
  }
  if (samples.length === 0) throw new Error(`sample folder '${dir}' holds no samples (.npy files or folders of them)`);
  return samples;
}

async function readArray(file: string): Promise<{ data: Float32Array; dims: readonly number[] }> {
  let bytes;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new Error(`cannot read sample '${file}': ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return readNpy(bytes, `sample '${file}'`);
}

/** A deterministic uniform [0, 1) generator (mulberry32). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
