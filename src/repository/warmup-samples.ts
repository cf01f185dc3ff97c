import { randomFillSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { elementByteSize } from '../core/data-type.js';
import type { BackendSpec, BufferTensor } from '../core/execution.js';
import type { Variant } from '../core/precision.js';
import type { WarmupInput, WarmupRun, WarmupSample } from '../core/warmup.js';
import type { ModelConfig, ModelWarmup } from '../generated/model_config.js';
import { toFloat16Bits } from '../onnx/half-precision.js';
import { toProtocolDataType } from './config-data-type.js';
import { ModelConfigError } from './config-error.js';

/** Triton's folder, inside the model directory, for warm-up input files (kWarmupDataFolder). */
export const WARMUP_FOLDER = 'warmup';

/**
 * Reads a model's model_warmup samples with Triton's semantics (GenerateWarmupData):
 * `zero_data` is zeros, `random_data` random bytes (zeros for TYPE_STRING, that is empty
 * strings), `input_data_file` a file in the model's warmup/ folder (taken whole for
 * TYPE_STRING, else at least the input's size); a batching model runs each sample as one
 * batch of `batch_size` items, and a sample runs `count` times (at least once).
 * Samples with batch_size 0 are skipped, as in Triton. Errors use Triton's texts.
 */
export async function readWarmupSamples(config: ModelConfig, modelDir: string): Promise<WarmupSample[]> {
  const samples: WarmupSample[] = [];
  for (const setting of config.modelWarmup) {
    if (setting.batchSize === 0) continue;
    samples.push(await readSample(config, setting, modelDir));
  }
  return samples;
}

async function readSample(config: ModelConfig, setting: ModelWarmup, modelDir: string): Promise<WarmupSample> {
  const fail = (message: string): never => {
    throw new ModelConfigError(`model '${config.name}': ${message}`);
  };
  const batching = config.maxBatchSize > 0;
  if (batching && setting.batchSize > config.maxBatchSize) {
    fail(`warmup sample '${setting.name}' has batch_size ${setting.batchSize}, more than max_batch_size ${config.maxBatchSize}`);
  }
  const inputs: WarmupInput[] = [];
  for (const [name, input] of Object.entries(setting.inputs).sort(([a], [b]) => a.localeCompare(b))) {
    const datatype = toProtocolDataType(input.dataType);
    if (datatype === undefined) fail(`warmup sample '${setting.name}' input '${name}' must specify a valid 'data_type'`);
    const dims = input.dims.map(Number);
    if (dims.some((d) => d < 0)) fail(`warmup setting expects all variable-size dimensions are specified for input '${name}'`);
    const elements = dims.reduce((a, b) => a * b, 1);
    const size = elements * (elementByteSize(datatype!) || 4);
    let bytes: Uint8Array;
    switch (input.inputDataType?.$case) {
      case 'zeroData':
        bytes = new Uint8Array(size);
        break;
      case 'randomData':
        bytes = datatype === 'BYTES' ? new Uint8Array(size) : randomFillSync(new Uint8Array(size));
        break;
      case 'inputDataFile': {
        const data = await readWarmupFile(input.inputDataType.value, modelDir, fail);
        if (datatype !== 'BYTES' && data.byteLength < size) {
          fail(`warmup setting expects ${size} bytes, but the data provided from ${input.inputDataType.value} only has ${data.byteLength} bytes`);
        }
        bytes = datatype === 'BYTES' ? data : data.subarray(0, size);
        break;
      }
      default:
        return fail(`warmup setting expects input '${name}' to have input_data_type set`);
    }
    const items = batching ? setting.batchSize : 1;
    const batch = new Uint8Array(bytes.byteLength * items);
    for (let i = 0; i < items; i++) batch.set(bytes, i * bytes.byteLength);
    inputs.push({ name, datatype: datatype!, shape: batching ? [items, ...dims] : dims, bytes: batch });
  }
  // A model that does not batch gets batch_size separate requests, each its own execution.
  const executions = Math.max(setting.count, 1) * (batching ? 1 : setting.batchSize);
  return { name: setting.name, executions, inputs };
}

async function readWarmupFile(file: string, modelDir: string, fail: (message: string) => never): Promise<Uint8Array> {
  const folder = path.resolve(modelDir, WARMUP_FOLDER);
  const full = path.resolve(folder, file);
  const relative = path.relative(folder, full);
  if (relative.startsWith('..') || path.isAbsolute(relative)) fail(`warmup input_data_file '${file}' must name a file inside the model's ${WARMUP_FOLDER}/ folder`);
  try {
    return new Uint8Array(await readFile(full));
  } catch (err) {
    return fail(`unable to read warmup input_data_file '${file}': ${(err as Error).message}`);
  }
}

/**
 * The warm-up runs of a version: every sample on every variant its instances hold. The
 * fp16-io variant takes FP16 where the config says FP32, so those inputs are converted.
 */
export function warmupRuns(samples: readonly WarmupSample[], backend: BackendSpec, outputNames: readonly string[]): WarmupRun[] {
  const variants: Variant[] = ['fp32'];
  if (backend.kind === 'onnxruntime') variants.push(...(Object.keys(backend.variants ?? {}) as Variant[]));
  return samples.flatMap((sample) =>
    variants.map((variant) => ({
      sample: sample.name,
      variant,
      executions: sample.executions,
      inputs: sample.inputs.map((input) => toTensor(input, variant === 'fp16-io')),
      outputNames,
    })),
  );
}

function toTensor(input: WarmupInput, fp16: boolean): BufferTensor {
  let bytes = input.bytes;
  let datatype = input.datatype;
  if (fp16 && datatype === 'FP32') {
    const floats = new Float32Array(bytes.slice().buffer);
    bytes = new Uint8Array(toFloat16Bits(floats).buffer);
    datatype = 'FP16';
  }
  const copy = bytes.slice();
  return { name: input.name, datatype, shape: input.shape, buffer: copy.buffer, byteOffset: 0, byteLength: copy.byteLength };
}
