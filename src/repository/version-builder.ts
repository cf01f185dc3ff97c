import { stat } from 'node:fs/promises';
import type { QueueBounds, SchedulingPolicy } from '../core/batching-policy.js';
import type { BackendSpec, InstancePlan } from '../core/execution.js';
import type { Logger } from '../core/logger.js';
import type { ModelInfo } from '../core/model-info.js';
import type { PrecisionChoice, PrecisionReport, Variant, VariantBuildJob, VariantBuildResult } from '../core/precision.js';
import type { Servable } from '../core/servable.js';
import type { WarmupRun } from '../core/warmup.js';
import type { ModelConfig } from '../generated/model_config.js';
import { IDENTITY_BACKEND, REPEAT_BACKEND } from './auto-complete.js';
import { ModelConfigError } from './config-error.js';
import { DrainingServable } from './draining-servable.js';
import { checkInstanceMemory } from './instance-plan.js';
import { readMetadata, type DefinitionOptions, type ModelDefinition } from './model-definition.js';
import { modelInfoFromConfig } from './model-info.js';
import { INT8_ON_GPU_REASON, variantBuildJob, type PrecisionConfig } from './precision-config.js';
import { precisionParameters } from './precision-parameters.js';
import { schedulingPolicyFromConfig } from './scheduling-policy.js';
import { validateAgainstOnnx } from './validate-config.js';
import { warmupRuns } from './warmup-samples.js';

/** What the server needs to start one model version. */
export interface ServableSpec {
  readonly info: ModelInfo;
  readonly config: ModelConfig;
  readonly backend: BackendSpec;
  readonly instances: readonly InstancePlan[];
  readonly scheduling: SchedulingPolicy;
  /** The server's queue bounds; a max_queue_size in the scheduling policy wins over maxQueueSize. */
  readonly queue: QueueBounds;
  /** model_warmup runs, on every precision variant; each instance runs them all before it is ready. */
  readonly warmup: readonly WarmupRun[];
}

/** Builds the running form (instances + scheduler) of a model version; injected by server.ts. */
export type ServableFactory = (spec: ServableSpec, logger: Logger) => Promise<Servable>;

/** Builds (or finds cached) the precision variants of a model version; injected by server.ts. */
export type VariantBuilder = (job: VariantBuildJob, logger: Logger) => Promise<VariantBuildResult>;

/** A version that can take requests. */
export interface ReadyModel {
  readonly info: ModelInfo;
  readonly config: ModelConfig;
  readonly servable: DrainingServable;
}

/** What a version serves after its variants are built. */
interface BuiltVariants {
  readonly files: Readonly<Partial<Record<Variant, string>>>;
  readonly choice: PrecisionChoice;
  /** Config parameters describing each precision. */
  readonly parameters: Readonly<Record<string, { stringValue: string }>>;
}

/**
 * Turns a model definition into a running version: checks its files against the config,
 * builds (or reuses from the cache) its precision variants, and starts its instances.
 * Start-up, explicit loads, reloads and poll mode all come through here, so a reload of
 * a model with precision variants finds them in the variant cache like a first load.
 */
export class VersionBuilder {
  /** Variant builds run one at a time: each uses every core, and its speed figures need a quiet machine. */
  private builds: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly definitionOptions: DefinitionOptions,
    private readonly createServable: ServableFactory,
    private readonly buildVariantsWith: VariantBuilder,
  ) {}

  /** Starts one version; throws with the reason a client should see when it cannot. */
  async build(definition: ModelDefinition, version: number, logger: Logger): Promise<ReadyModel> {
    let backend = await this.backendFor(definition, version);
    let info = modelInfoFromConfig(definition.config, version);
    let config = definition.config;
    if (definition.precision !== undefined && backend.kind === 'onnxruntime') {
      const variants = await this.buildVariants(definition, definition.precision, version, backend.modelPath, logger);
      backend = { ...backend, variants: variants.files };
      info = { ...info, precision: variants.choice };
      config = { ...config, parameters: { ...config.parameters, ...variants.parameters } };
    }
    const scheduling = schedulingPolicyFromConfig(config, definition.initialStates);
    if (scheduling.kind === 'fifo' && config.schedulingChoice?.$case === 'dynamicBatching') {
      logger.warn('dynamic_batching has no effect with max_batch_size 0 (the model does not batch); requests are scheduled first in, first out');
    }
    if (backend.kind === 'onnxruntime') {
      const files = [backend.modelPath, ...Object.values(backend.variants ?? {})];
      const weights = (await Promise.all(files.map((file) => stat(file).then((s) => s.size, () => 0)))).reduce((a, b) => a + b, 0);
      checkInstanceMemory(definition.name, definition.instances.length, weights, this.definitionOptions.memoryBytes);
    }
    const queue = this.definitionOptions.queueBounds ?? { maxQueueSize: 0, maxQueueBytes: 0 };
    let warmup: WarmupRun[] = [];
    if (definition.warmup.length > 0 && config.modelTransactionPolicy?.decoupled === true) {
      logger.warn('model_warmup is not run for a decoupled model: its responses come through a stream that warm-up does not have');
    } else {
      warmup = warmupRuns(definition.warmup, backend, config.output.map((o) => o.name));
    }
    const servable = await this.createServable({ info, config, backend, instances: definition.instances, scheduling, queue, warmup }, logger);
    return { info, config, servable: new DrainingServable(servable) };
  }

  /** The reason a failed build gives: config problems as they are, others with the version. */
  static reason(model: string, version: number, err: unknown): string {
    return err instanceof ModelConfigError ? err.message : `model '${model}' version ${version}: ${(err as Error).message}`;
  }

  /**
   * Builds (or reads from the cache) a version's precision variants and decides what is
   * served: fp32 always, each other precision only when it met its tolerance. The figures
   * go to the log and into the version's config parameters (`precision.<p>.*`).
   */
  private async buildVariants(definition: ModelDefinition, settings: PrecisionConfig, version: number, modelPath: string, logger: Logger): Promise<BuiltVariants> {
    const gpu = definition.instances.some((i) => i.kind === 'gpu');
    const job = variantBuildJob(definition.config, settings, version, modelPath, this.definitionOptions.devices.cpuCores, gpu);
    const started = Date.now();
    let result: VariantBuildResult | undefined;
    if (job.precisions.length > 0) {
      const build = this.builds.then(() => this.buildVariantsWith(job, logger));
      this.builds = build.catch(() => undefined);
      result = await build;
    }
    const reports: PrecisionReport[] = [...(result?.reports ?? [])];
    if (gpu && settings.variants.includes('int8')) reports.push({ precision: 'int8', served: false, reason: INT8_ON_GPU_REASON });
    for (const r of reports) {
      const figures = { precision: r.precision, ...r.accuracy, speedup: r.speedup, int8Mode: r.int8Mode, int8Format: r.int8Format?.format, int8FormatChoice: r.int8Format?.why };
      if (r.served) logger.info(figures, `precision ${r.precision} is served`);
      else logger.warn({ ...figures, reason: r.reason }, `precision ${r.precision} is not served`);
    }
    if (result !== undefined) {
      logger.info({ cache: result.cacheEntry, cached: result.cached, ms: Date.now() - started }, result.cached ? 'precision variants read from the cache' : 'precision variants built');
    }
    const served = settings.variants.filter((p) => p === 'fp32' || reports.some((r) => r.precision === p && r.served));
    let defaultPrecision = settings.defaultPrecision;
    if (!served.includes(defaultPrecision)) {
      logger.warn({ defaultPrecision }, `default_precision ${defaultPrecision} is not served; requests without a precision run fp32`);
      defaultPrecision = 'fp32';
    }
    const files = result?.files ?? {};
    const choice: PrecisionChoice = {
      defaultPrecision,
      served,
      unavailable: new Map(reports.filter((r) => !r.served).map((r) => [r.precision, r.reason])),
      fp16Io: files['fp16-io'] !== undefined,
    };
    return { files, choice, parameters: precisionParameters(choice, reports) };
  }

  /** Checks a version's files and says what its instances run. */
  private async backendFor(definition: ModelDefinition, version: number): Promise<BackendSpec> {
    const config = definition.config;
    if (config.backend === IDENTITY_BACKEND) {
      return { kind: 'identity', outputToInput: Object.fromEntries(config.output.map((o, i) => [o.name, config.input[i]!.name])) };
    }
    if (config.backend === REPEAT_BACKEND) return { kind: 'repeat' };
    const modelPath = definition.modelPath(version);
    validateAgainstOnnx(config, await readMetadata(definition.name, modelPath));
    return { kind: 'onnxruntime', modelPath };
  }
}
