import path from 'node:path';
import { INT8_FORMATS, type Int8FormatSetting } from '../core/int8-format.js';
import type { Int8Mode, Precision, SampleInputSpec, SampleSource, VariantBuildJob } from '../core/precision.js';
import { PRECISIONS, isPrecision } from '../core/precision.js';
import type { ModelConfig } from '../generated/model_config.js';
import { DataType } from '../generated/model_config.js';
import { ModelConfigError } from './config-error.js';

/** config.pbtxt parameters that configure precision variants, with their defaults. */
export const PRECISION_PARAMETERS = {
  precision_variants: 'fp32',
  default_precision: 'fp32',
  int8_mode: 'dynamic',
  int8_format: 'auto',
  int8_activations: 'uint8',
  int8_exclude_nodes: '',
  calibration: 'generated',
  calibration_method: 'minmax',
  calibration_batches: '8',
  validation: 'generated',
  validation_batches: '8',
  sample_dims: '',
  sample_range: '0,1',
  max_relative_error: '0.05',
  min_top1_agreement: '0.99',
  classifier_outputs: '',
} as const;

type Key = keyof typeof PRECISION_PARAMETERS;

/** A model's precision settings, read from its config parameters once at load. */
export interface PrecisionConfig {
  /** Requested precisions, fp32 first. */
  readonly variants: readonly Precision[];
  readonly defaultPrecision: Precision;
  readonly int8Mode: Int8Mode;
  readonly int8Format: Int8FormatSetting;
  readonly int8Activations: 'int8' | 'uint8';
  readonly int8ExcludeNodes: readonly string[];
  readonly calibrationMethod: 'minmax' | 'percentile';
  readonly calibration: SampleSource;
  readonly validation: SampleSource;
  readonly generatedInputs: readonly SampleInputSpec[];
  readonly generatedRange: readonly [number, number];
  readonly maxRelativeError: number;
  readonly minTop1Agreement: number;
  readonly classifierOutputs: readonly string[] | undefined;
}

const CALIBRATION_SEED = 1000;
const VALIDATION_SEED = 2000;

/**
 * Reads the precision parameters of a model (its directory is `modelDir`). Returns
 * undefined when the model serves fp32 only. Throws ModelConfigError naming the parameter
 * for any value it cannot use, so a typo never silently disables a variant.
 */
export function readPrecisionConfig(config: ModelConfig, modelDir: string): PrecisionConfig | undefined {
  const fail = (message: string): never => {
    throw new ModelConfigError(`model '${config.name}': ${message}`);
  };
  const get = (key: Key): string => {
    const raw = config.parameters[key]?.stringValue;
    return raw === undefined || raw.trim() === '' ? PRECISION_PARAMETERS[key] : raw.trim();
  };
  const variants = list(get('precision_variants')).map((p) => (isPrecision(p) ? p : fail(`parameter 'precision_variants' names '${p}'; use ${PRECISIONS.join(', ')}`)));
  if (!variants.includes('fp32')) fail("parameter 'precision_variants' must include fp32: every other precision is measured against it");
  const served = PRECISIONS.filter((p) => variants.includes(p));
  const defaultPrecision = get('default_precision');
  if (!isPrecision(defaultPrecision) || !served.includes(defaultPrecision)) {
    fail(`parameter 'default_precision' is '${defaultPrecision}'; it must be one of precision_variants (${served.join(', ')})`);
  }
  if (served.length === 1) return undefined;
  if (config.backend !== 'onnxruntime') fail(`precision variants need the onnxruntime backend, not '${config.backend}'`);

  const choice = <T extends string>(key: Key, allowed: readonly T[]): T => {
    const value = get(key);
    return (allowed as readonly string[]).includes(value) ? (value as T) : fail(`parameter '${key}' is '${value}'; use ${allowed.join(' or ')}`);
  };
  const number = (key: Key, min: number, max: number, integer = false): number => {
    const raw = get(key);
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      fail(`parameter '${key}' is '${raw}'; it must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return value;
  };
  const source = (key: 'calibration' | 'validation', batchesKey: Key, seed: number): SampleSource => {
    const value = get(key);
    if (value === 'generated') return { kind: 'generated', batches: number(batchesKey, 1, 1024, true), seed };
    return { kind: 'directory', path: path.resolve(modelDir, value) };
  };
  const calibration = source('calibration', 'calibration_batches', CALIBRATION_SEED);
  const validationParameter = config.parameters['validation']?.stringValue?.trim();
  // Without its own setting, validation reads the calibration folder (or generates a fresh, independent set).
  const validation =
    (validationParameter === undefined || validationParameter === '') && calibration.kind === 'directory'
      ? calibration
      : source('validation', 'validation_batches', VALIDATION_SEED);
  const range = list(get('sample_range')).map(Number);
  if (range.length !== 2 || !range.every(Number.isFinite) || range[0]! >= range[1]!) {
    fail(`parameter 'sample_range' is '${get('sample_range')}'; give 'low,high' with low < high`);
  }
  const classifier = list(get('classifier_outputs'));
  for (const name of classifier) {
    if (!config.output.some((o) => o.name === name)) fail(`parameter 'classifier_outputs' names '${name}', which is not an output of the model`);
  }
  const needsGenerated = calibration.kind === 'generated' || validation.kind === 'generated';
  const int8Format = choice<Int8FormatSetting>('int8_format', ['auto', ...INT8_FORMATS]);
  const int8Activations = choice('int8_activations', ['uint8', 'int8'] as const);
  if (int8Format === 'u8u8' && int8Activations === 'int8') fail("parameter 'int8_format' is 'u8u8', which needs uint8 activations, but 'int8_activations' is 'int8'");
  return {
    variants: served,
    defaultPrecision: defaultPrecision as Precision,
    int8Mode: choice('int8_mode', ['dynamic', 'static'] as const),
    int8Format,
    int8Activations,
    int8ExcludeNodes: list(get('int8_exclude_nodes')),
    calibrationMethod: choice('calibration_method', ['minmax', 'percentile'] as const),
    calibration,
    validation,
    generatedInputs: needsGenerated ? generatedInputs(config, get('sample_dims'), fail) : [],
    generatedRange: [range[0]!, range[1]!],
    maxRelativeError: number('max_relative_error', 0, 1e9),
    minTop1Agreement: number('min_top1_agreement', 0, 1),
    classifierOutputs: classifier.length > 0 ? classifier : undefined,
  };
}

/** The build job for one version of a model with these settings. */
export function variantBuildJob(config: ModelConfig, settings: PrecisionConfig, version: number, modelPath: string, threads: number, gpu: boolean): VariantBuildJob {
  return {
    model: config.name,
    version,
    modelPath,
    cacheDir: path.join(path.dirname(modelPath), '.nereid-variants'),
    precisions: settings.variants.filter((p) => p !== 'fp32' && !(gpu && p === 'int8')),
    fp16Io: settings.variants.includes('fp16') && config.input.some((i) => i.dataType === DataType.TYPE_FP32),
    int8Mode: settings.int8Mode,
    int8Format: settings.int8Format,
    int8Activations: settings.int8Activations,
    int8ExcludeNodes: settings.int8ExcludeNodes,
    calibrationMethod: settings.calibrationMethod,
    calibration: settings.calibration,
    validation: settings.validation,
    generated: { inputs: settings.generatedInputs, range: settings.generatedRange },
    maxRelativeError: settings.maxRelativeError,
    minTop1Agreement: settings.minTop1Agreement,
    classifierOutputs: settings.classifierOutputs,
    threads,
  };
}

/** Why int8 is not offered on GPU instances. */
export const INT8_ON_GPU_REASON =
  'int8 variants run on CPU instances only: ONNX Runtime places most of their integer operators on the CPU even ' +
  'under the CUDA and WebGPU providers, so on GPUs use fp16';

/** Batch dims of every input for generated samples: config dims, with sample_dims filling the variable ones. */
function generatedInputs(config: ModelConfig, sampleDims: string, fail: (m: string) => never): SampleInputSpec[] {
  const given = new Map<string, number[]>();
  for (const part of sampleDims.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    const colon = part.lastIndexOf(':');
    const name = colon < 0 ? config.input[0]?.name ?? '' : part.slice(0, colon).trim();
    if (colon < 0 && config.input.length > 1) fail(`parameter 'sample_dims' must name each input ('input:d1,d2;...') for a model with several inputs`);
    const dims = list(colon < 0 ? part : part.slice(colon + 1)).map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d < 1)) fail(`parameter 'sample_dims' gives '${part}'; dims must be positive integers`);
    given.set(name, dims);
  }
  const batch = config.maxBatchSize > 0 ? [Math.min(config.maxBatchSize, 4)] : [];
  return config.input.map((input) => {
    const configDims = (input.reshape?.shape ?? input.dims).map(Number);
    if (input.dataType !== DataType.TYPE_FP32) {
      fail(`input '${input.name}' is not TYPE_FP32, so calibration and validation inputs cannot be generated; set 'calibration' to a folder of samples`);
    }
    const dims = given.get(input.name) ?? configDims;
    if (dims.length !== configDims.length || dims.some((d, i) => d < 1 || (configDims[i] !== -1 && configDims[i] !== d))) {
      fail(`input '${input.name}' has dims [${configDims.join(',')}]; set 'sample_dims' to concrete dims that fit them to generate samples`);
    }
    return { name: input.name, dims: [...batch, ...dims] };
  });
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
