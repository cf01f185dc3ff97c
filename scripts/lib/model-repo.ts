/**
 * Helpers shared by the model-generating scripts: formatting a Triton
 * `config.pbtxt` and writing a model into a Triton-layout repository
 * (`<repo>/<model>/config.pbtxt`, `<repo>/<model>/1/model.onnx`).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** One `input`/`output` entry of a Triton model configuration. */
export interface TensorConfig {
  name: string;
  /** Triton data type, e.g. `TYPE_FP32`, `TYPE_STRING`. */
  dataType: string;
  /** Dims excluding the batch dimension; -1 = variable. */
  dims: readonly number[];
}

/** The subset of a Triton model configuration these scripts emit. */
export interface ModelConfig {
  name: string;
  /** Defaults to `onnxruntime_onnx` unless `backend` is set. */
  platform?: string;
  /** A backend instead of a platform, e.g. `identity`. */
  backend?: string;
  maxBatchSize: number;
  inputs: readonly TensorConfig[];
  outputs: readonly TensorConfig[];
  /** Extra config.pbtxt text appended as is, e.g. `dynamic_batching { }`. */
  extra?: string;
  /** `parameters` entries (string values). */
  parameters?: Readonly<Record<string, string>>;
}

function formatTensors(key: string, tensors: readonly TensorConfig[]): string {
  const entries = tensors.map(
    (t) =>
      `  {\n    name: ${JSON.stringify(t.name)}\n    data_type: ${t.dataType}\n    dims: [ ${t.dims.join(', ')} ]\n  }`,
  );
  return `${key} [\n${entries.join(',\n')}\n]\n`;
}

/** Formats a model configuration in Triton's protobuf text format. */
export function formatConfig(config: ModelConfig): string {
  return (
    `name: ${JSON.stringify(config.name)}\n` +
    (config.backend !== undefined
      ? `backend: ${JSON.stringify(config.backend)}\n`
      : `platform: ${JSON.stringify(config.platform ?? 'onnxruntime_onnx')}\n`) +
    `max_batch_size: ${config.maxBatchSize}\n` +
    formatTensors('input', config.inputs) +
    formatTensors('output', config.outputs) +
    (config.extra !== undefined ? `${config.extra}\n` : '') +
    Object.entries(config.parameters ?? {})
      .map(([key, value]) => `parameters {\n  key: ${JSON.stringify(key)}\n  value { string_value: ${JSON.stringify(value)} }\n}\n`)
      .join('')
  );
}

/**
 * Writes `<repo>/<name>/1/model.onnx` (or, without ONNX bytes, an empty version
 * directory kept by a `.gitkeep`) and, unless `config` is null,
 * `<repo>/<name>/config.pbtxt`. Returns the model directory.
 */
export async function writeModel(
  repo: string,
  name: string,
  onnxBytes: Uint8Array | null,
  config: ModelConfig | null,
): Promise<string> {
  const dir = path.join(repo, name);
  await mkdir(path.join(dir, '1'), { recursive: true });
  if (onnxBytes !== null) await writeFile(path.join(dir, '1', 'model.onnx'), onnxBytes);
  else await writeFile(path.join(dir, '1', '.gitkeep'), '');
  if (config) await writeFile(path.join(dir, 'config.pbtxt'), formatConfig(config));
  return dir;
}

/** True when the module with this `import.meta.url` is the process entry point. */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && importMetaUrl === pathToFileURL(path.resolve(entry)).href;
}
