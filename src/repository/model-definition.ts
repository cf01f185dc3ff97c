import { access } from 'node:fs/promises';
import type { QueueBounds } from '../core/batching-policy.js';
import path from 'node:path';
import type { DeviceInventory, InstancePlan } from '../core/execution.js';
import type { WarmupSample } from '../core/warmup.js';
import { ModelConfig } from '../generated/model_config.js';
import { readOnnxMetadata, type OnnxMetadata } from '../onnx/onnx-metadata.js';
import { completeBackendFields, completeFromOnnx, ONNX_BACKEND, ONNX_MODEL_FILENAME } from './auto-complete.js';
import { parseModelConfigJson } from './config-json.js';
import { parseModelConfigText } from './config-text.js';
import { checkConfigFields } from './config-fields.js';
import { ModelConfigError, ModelFileError } from './config-error.js';
import { planInstances } from './instance-plan.js';
import type { ModelSource } from './model-source.js';
import { normalizeModelConfig } from './normalize-config.js';
import { readPrecisionConfig, type PrecisionConfig } from './precision-config.js';
import { readInitialStates } from './sequence-config.js';
import { validateModelConfig } from './validate-config.js';
import { readWarmupSamples } from './warmup-samples.js';
import { selectVersions } from './version-policy.js';

/** Settings that shape how every model's config is completed. */
export interface DefinitionOptions {
  /** Triton's auto-complete from the ONNX graph (off with --disable-auto-complete-config). */
  readonly autoComplete: boolean;
  /** max_batch_size given to batchable models that set none (Triton's default-max-batch-size). */
  readonly defaultMaxBatchSize: number;
  readonly devices: DeviceInventory;
  /** Most instances one model may start (--max-instances-per-model; 0 or absent = by the cores). */
  readonly maxInstancesPerModel?: number;
  /** Queue bounds for models whose config sets none (--max-queue-size, --max-queue-bytes); absent = unbounded. */
  readonly queueBounds?: QueueBounds;
  /** Memory the process may use (the smaller of RAM and a cgroup limit); absent = not checked. */
  readonly memoryBytes?: number;
}

/** A model's final configuration and what is needed to load each of its versions. */
export interface ModelDefinition {
  readonly name: string;
  readonly config: ModelConfig;
  /** Versions the version policy selects, ascending. */
  readonly versions: readonly number[];
  readonly instances: readonly InstancePlan[];
  /** Model file of one version. */
  modelPath(version: number): string;
  /** Things worth a warning in the log (auto-filled values, missing specific versions). */
  readonly warnings: readonly string[];
  /** Precision variants to build and serve; undefined serves fp32 only. */
  readonly precision: PrecisionConfig | undefined;
  /** Sequence models: the bytes of initial_state data files, by state input name. */
  readonly initialStates: ReadonlyMap<string, Uint8Array>;
  /** model_warmup samples with their data, run on every instance before the model is ready. */
  readonly warmup: readonly WarmupSample[];
}

/**
 * Reads, auto-completes, normalizes and validates one model's config, following Triton's
 * order: backend fields, ONNX auto-complete (from the newest selected version's graph),
 * defaults, validation, instance plan. Throws ModelConfigError with the reason when the
 * model cannot be served at all.
 */
export async function loadModelDefinition(source: ModelSource, options: DefinitionOptions): Promise<ModelDefinition> {
  const config = parseConfig(source);
  const anyOnnx = await someExists([...source.versions.values()].map((dir) => path.join(dir, ONNX_MODEL_FILENAME)));
  completeBackendFields(config, source.name, anyOnnx);
  if (config.name !== source.name) {
    throw new ModelConfigError(`model '${source.name}': config.pbtxt names it '${config.name}'; the name must match the model directory`);
  }
  // Before auto-complete and defaults, so that only what the user wrote is reported.
  const warnings: string[] = checkConfigFields(config);
  const versions = selectVersions(config.versionPolicy, [...source.versions.keys()]);
  const policy = config.versionPolicy?.policyChoice;
  if (policy?.$case === 'specific') {
    const missing = policy.value.versions.map(Number).filter((v) => !source.versions.has(v));
    if (missing.length > 0) warnings.push(`model '${source.name}': version_policy lists versions [${missing.join(', ')}] that are not in the repository`);
  }
  if (versions.length === 0) throw new ModelConfigError(`model '${source.name}': no version is available (no numeric version directory matches the version policy)`);
  const modelPath = (version: number) => path.join(source.versions.get(version)!, config.defaultModelFilename || ONNX_MODEL_FILENAME);
  if (options.autoComplete && config.backend === ONNX_BACKEND) {
    const newest = versions[versions.length - 1]!;
    const metadata = await readMetadata(source.name, modelPath(newest));
    warnings.push(...completeFromOnnx(config, metadata, options.defaultMaxBatchSize));
  }
  normalizeModelConfig(config, options.devices);
  validateModelConfig(config);
  const instances = planInstances(config, options.devices, options.maxInstancesPerModel);
  const precision = readPrecisionConfig(config, source.dir);
  const initialStates = await readInitialStates(config, source.dir);
  const warmup = await readWarmupSamples(config, source.dir);
  return { name: source.name, config, versions, instances, modelPath, warnings, precision, initialStates, warmup };
}

/** Reads a version's ONNX interface, turning file problems into a reason for the model. */
export async function readMetadata(model: string, file: string): Promise<OnnxMetadata> {
  try {
    return await readOnnxMetadata(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ModelFileError(`model '${model}': model file '${file}' does not exist`);
    throw new ModelFileError(`model '${model}': ${(err as Error).message}`);
  }
}

function parseConfig(source: ModelSource): ModelConfig {
  if (source.configOverride !== undefined) {
    try {
      return parseModelConfigJson(source.configOverride);
    } catch (err) {
      throw new ModelConfigError(`Invalid config override: ${(err as Error).message}`);
    }
  }
  if (source.configText === undefined) return ModelConfig.fromPartial({});
  try {
    return parseModelConfigText(source.configText);
  } catch (err) {
    throw new ModelConfigError(`model '${source.name}': failed to parse config.pbtxt: ${(err as Error).message}`);
  }
}

async function someExists(files: readonly string[]): Promise<boolean> {
  for (const file of files) {
    try {
      await access(file);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}
