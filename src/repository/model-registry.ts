import { quote } from '../core/client-text.js';
import { InferError } from '../core/errors.js';
import type { SchedulingPolicy } from '../core/batching-policy.js';
import type { BackendSpec, InstancePlan } from '../core/execution.js';
import type { Logger } from '../core/logger.js';
import type { ModelInfo } from '../core/model-info.js';
import type { PrecisionChoice, PrecisionReport, Variant, VariantBuildJob, VariantBuildResult } from '../core/precision.js';
import type { Servable } from '../core/servable.js';
import type { ModelConfig } from '../generated/model_config.js';
import { IDENTITY_BACKEND } from './auto-complete.js';
import { ModelConfigError } from './config-error.js';
import { loadModelDefinition, readMetadata, type DefinitionOptions, type ModelDefinition } from './model-definition.js';
import { modelInfoFromConfig } from './model-info.js';
import { scanRepositories } from './model-source.js';
import { INT8_ON_GPU_REASON, variantBuildJob, type PrecisionConfig } from './precision-config.js';
import { precisionParameters } from './precision-parameters.js';
import { validateAgainstOnnx } from './validate-config.js';
import { schedulingPolicyFromConfig } from './scheduling-policy.js';
import { parseVersionString } from './version-string.js';

/** Triton's model version states, as RepositoryIndex reports them. */
export type VersionState = 'UNKNOWN' | 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

/** What the server needs to start one model version. */
export interface ServableSpec {
  readonly info: ModelInfo;
  readonly config: ModelConfig;
  readonly backend: BackendSpec;
  readonly instances: readonly InstancePlan[];
  readonly scheduling: SchedulingPolicy;
}

/** Builds the running form (instances + scheduler) of a model version; injected by server.ts. */
export type ServableFactory = (spec: ServableSpec, logger: Logger) => Promise<Servable>;

/** Builds (or finds cached) the precision variants of a model version; injected by server.ts. */
export type VariantBuilder = (job: VariantBuildJob, logger: Logger) => Promise<VariantBuildResult>;

/** What a version serves after its variants are built. */
interface BuiltVariants {
  readonly files: Readonly<Partial<Record<Variant, string>>>;
  readonly choice: PrecisionChoice;
  /** Config parameters describing each precision. */
  readonly parameters: Readonly<Record<string, { stringValue: string }>>;
}

/** A version that can take requests. */
export interface ReadyModel {
  readonly info: ModelInfo;
  readonly config: ModelConfig;
  readonly servable: Servable;
}

interface VersionEntry {
  readonly version: number;
  state: VersionState;
  reason: string;
  ready?: ReadyModel;
}

interface ModelEntry {
  readonly name: string;
  config: ModelConfig | undefined;
  readonly versions: Map<number, VersionEntry>;
  /** Why the model as a whole cannot load ('' when it could). */
  reason: string;
}

export interface RegistryOptions {
  readonly repositories: readonly string[];
  readonly definition: DefinitionOptions;
  readonly createServable: ServableFactory;
  readonly buildVariants: VariantBuilder;
  readonly logger: Logger;
}

/**
 * The models of the server and the state of each version. Sole owner of that state;
 * the transport asks it for a ready version and gets Triton's errors when there is none.
 * Main thread only.
 */
export class ModelRegistry {
  private readonly models = new Map<string, ModelEntry>();
  private readonly listeners: (() => void)[] = [];
  /** Variant builds run one at a time: each uses every core, and its speed figures need a quiet machine. */
  private builds: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: RegistryOptions) {}

  /** Scans the repositories and loads every model; failures are recorded, not thrown. */
  async loadAll(): Promise<void> {
    const { sources, problems } = await scanRepositories(this.options.repositories);
    for (const problem of problems) {
      this.models.set(problem.name, { name: problem.name, config: undefined, versions: new Map(), reason: problem.reason });
      this.options.logger.error({ model: problem.name, reason: problem.reason }, 'model failed to load');
    }
    await Promise.all(
      sources.map(async (source) => {
        const entry: ModelEntry = { name: source.name, config: undefined, versions: new Map(), reason: '' };
        this.models.set(source.name, entry);
        let definition: ModelDefinition;
        try {
          definition = await loadModelDefinition(source, this.options.definition);
        } catch (err) {
          entry.reason = (err as Error).message;
          for (const version of source.versions.keys()) entry.versions.set(version, { version, state: 'UNAVAILABLE', reason: entry.reason });
          this.options.logger.error({ model: source.name, reason: entry.reason }, 'model failed to load');
          this.changed();
          return;
        }
        entry.config = definition.config;
        for (const warning of definition.warnings) this.options.logger.warn({ model: source.name }, warning);
        await Promise.all(definition.versions.map((version) => this.loadVersion(entry, definition, version)));
      }),
    );
  }

  /**
   * The ready version a request names, or Triton's error: NOT_FOUND for an unknown model
   * or version, UNAVAILABLE for a version that exists but is not ready, INVALID_ARGUMENT
   * for a malformed version string.
   */
  get(name: string, versionString: string): ReadyModel {
    const version = parseVersionString(versionString);
    const entry = this.models.get(name);
    if (entry === undefined) throw new InferError('MODEL_NOT_FOUND', `Request for unknown model: ${quote(name)} is not found`);
    if (version === undefined) {
      const latest = this.readyVersions(entry).at(-1);
      if (latest === undefined) throw new InferError('MODEL_NOT_FOUND', `Request for unknown model: ${quote(name)} has no available versions`);
      return latest.ready!;
    }
    const found = entry.versions.get(version);
    if (found === undefined) throw new InferError('MODEL_NOT_FOUND', `Request for unknown model: ${quote(name)} version ${version} is not found`);
    if (found.ready === undefined || found.state !== 'READY') {
      throw new InferError('MODEL_NOT_READY', `Request for unknown model: ${quote(name)} version ${version} is not at ready state`);
    }
    return found.ready;
  }

  /** ModelReady semantics: false (never an error) for unknown or unready models. */
  isReady(name: string, versionString: string): boolean {
    try {
      this.get(name, versionString);
      return true;
    } catch {
      return false;
    }
  }

  /** Version strings of the ready versions of a model, ascending. */
  readyVersionNames(name: string): string[] {
    const entry = this.models.get(name);
    return entry === undefined ? [] : this.readyVersions(entry).map((v) => String(v.version));
  }

  /** Every model name known to the server, sorted. */
  modelNames(): string[] {
    return [...this.models.keys()].sort();
  }

  /** True when every model has a ready version (Triton's strict readiness). */
  allReady(): boolean {
    return [...this.models.values()].every((entry) => this.readyVersions(entry).length > 0);
  }

  /** Each model's versions with their state and reason (for logs and RepositoryIndex). */
  index(): { name: string; version: string; state: VersionState; reason: string }[] {
    const rows = [];
    for (const entry of [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.versions.size === 0) rows.push({ name: entry.name, version: '', state: 'UNAVAILABLE' as const, reason: entry.reason });
      for (const v of [...entry.versions.values()].sort((a, b) => a.version - b.version)) {
        rows.push({ name: entry.name, version: String(v.version), state: v.state, reason: v.reason });
      }
    }
    return rows;
  }

  /** Every ready version (for statistics, tests and shutdown). */
  readyModels(): ReadyModel[] {
    return [...this.models.values()].flatMap((entry) => this.readyVersions(entry).map((v) => v.ready!));
  }

  /** Registers a callback run whenever a version changes state (health watches use it). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Stops every ready version: running requests finish, queued ones fail. */
  async unloadAll(): Promise<void> {
    const versions = [...this.models.values()].flatMap((entry) => [...entry.versions.values()]);
    await Promise.all(
      versions.map(async (v) => {
        if (v.ready === undefined) return;
        v.state = 'UNLOADING';
        this.changed();
        await v.ready.servable.stop();
        v.ready = undefined;
        v.state = 'UNAVAILABLE';
        v.reason = 'unloaded';
        this.changed();
      }),
    );
  }

  private readyVersions(entry: ModelEntry): VersionEntry[] {
    return [...entry.versions.values()].filter((v) => v.state === 'READY').sort((a, b) => a.version - b.version);
  }

  private async loadVersion(entry: ModelEntry, definition: ModelDefinition, version: number): Promise<void> {
    const state: VersionEntry = { version, state: 'LOADING', reason: '' };
    entry.versions.set(version, state);
    this.changed();
    const logger = this.options.logger.child({ model: entry.name, version });
    try {
      let backend = await this.backendFor(definition, version);
      let info = modelInfoFromConfig(definition.config, version);
      let config = definition.config;
      if (definition.precision !== undefined && backend.kind === 'onnxruntime') {
        const variants = await this.buildVariants(definition, definition.precision, version, backend.modelPath, logger);
        backend = { ...backend, variants: variants.files };
        info = { ...info, precision: variants.choice };
        config = { ...config, parameters: { ...config.parameters, ...variants.parameters } };
      }
      const scheduling = schedulingPolicyFromConfig(config);
      if (scheduling.kind === 'fifo' && config.schedulingChoice?.$case === 'dynamicBatching') {
        logger.warn('dynamic_batching has no effect with max_batch_size 0 (the model does not batch); requests are scheduled first in, first out');
      }
      const spec = { info, config, backend, instances: definition.instances, scheduling };
      const servable = await this.options.createServable(spec, logger);
      state.ready = { info, config, servable };
      state.state = 'READY';
      logger.info({ instances: definition.instances.map((i) => i.name) }, 'model version is ready');
    } catch (err) {
      state.state = 'UNAVAILABLE';
      state.reason = err instanceof ModelConfigError ? err.message : `model '${entry.name}' version ${version}: ${(err as Error).message}`;
      logger.error({ reason: state.reason }, 'model version failed to load');
    }
    this.changed();
  }

  /**
   * Builds (or reads from the cache) a version's precision variants and decides what is
   * served: fp32 always, each other precision only when it met its tolerance. The figures
   * go to the log and into the version's config parameters (`precision.<p>.*`).
   */
  private async buildVariants(definition: ModelDefinition, settings: PrecisionConfig, version: number, modelPath: string, logger: Logger): Promise<BuiltVariants> {
    const gpu = definition.instances.some((i) => i.kind === 'gpu');
    const job = variantBuildJob(definition.config, settings, version, modelPath, this.options.definition.devices.cpuCores, gpu);
    const started = Date.now();
    let result: VariantBuildResult | undefined;
    if (job.precisions.length > 0) {
      const build = this.builds.then(() => this.options.buildVariants(job, logger));
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
    const modelPath = definition.modelPath(version);
    validateAgainstOnnx(config, await readMetadata(definition.name, modelPath));
    return { kind: 'onnxruntime', modelPath };
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
