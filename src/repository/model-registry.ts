import { quote } from '../core/client-text.js';
import { InferError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { ModelConfigError, ModelFileError } from './config-error.js';
import { materializeFiles, type LoadOverrides } from './load-overrides.js';
import { loadModelDefinition, type DefinitionOptions } from './model-definition.js';
import { modelFingerprint, versionFingerprint } from './model-fingerprint.js';
import { findModel, readSource, scanRepositories, type ModelSource } from './model-source.js';
import { OverrideDirectories } from './override-directories.js';
import { ModelTable, type IndexRow, type ModelEntry, type VersionEntry } from './model-table.js';
import { VersionBuilder, type ReadyModel, type ServableFactory, type VariantBuilder } from './version-builder.js';

export type { ReadyModel, ServableFactory, ServableSpec, VariantBuilder } from './version-builder.js';
export type { IndexRow, VersionState } from './model-table.js';

/** Which RPCs may change models, and how the registry loads at start-up (Triton's model control). */
export interface ModelControl {
  readonly mode: 'none' | 'poll' | 'explicit';
  /** Explicit mode: models to load at start-up; ['*'] is every model. */
  readonly startupModels: readonly string[];
  /** Most bytes of `file:` overrides in one load. */
  readonly overrideMaxBytes: number;
}

export interface RegistryOptions {
  readonly repositories: readonly string[];
  readonly definition: DefinitionOptions;
  readonly control: ModelControl;
  readonly createServable: ServableFactory;
  readonly buildVariants: VariantBuilder;
  readonly logger: Logger;
  /** Called once a version is gone for good (not replaced), after its last request: metrics drop its series. */
  readonly onVersionRemoved?: (model: string, version: number) => void;
}

/**
 * The models of the server and the state of each version. Sole owner of that state (kept
 * in a ModelTable, which answers the queries); the transport asks it for a ready version
 * and gets Triton's errors when there is none. Loads, reloads, unloads and polls of one
 * model run one after another; different models change in parallel. A new build of a
 * version serves only once it is ready, and the build it replaces is retired after its
 * last accepted request. Main thread only.
 */
export class ModelRegistry extends ModelTable {
  private readonly builder: VersionBuilder;
  private readonly chains = new Map<string, Promise<unknown>>();
  /** Retirements in progress, so shutdown can wait for them. */
  private readonly retiring = new Set<Promise<void>>();
  private readonly overrides: OverrideDirectories;

  constructor(private readonly options: RegistryOptions) {
    super();
    this.builder = new VersionBuilder(options.definition, options.createServable, options.buildVariants);
    this.overrides = new OverrideDirectories(options.logger);
  }

  /**
   * Start-up, by mode: none and poll load every model; explicit loads only the startup
   * models (all for `*`). Failures are recorded (and logged), not thrown.
   */
  async loadAtStartup(): Promise<void> {
    const { mode, startupModels } = this.options.control;
    if (mode !== 'explicit' || startupModels.includes('*')) {
      await this.poll();
      return;
    }
    await Promise.all(
      startupModels.map((name) =>
        this.applyLoad(name, { files: new Map() }).catch((err: unknown) =>
          this.options.logger.error({ model: name, reason: (err as Error).message }, 'model failed to load'),
        ),
      ),
    );
  }

  /**
   * Scans the repositories and applies what changed since the last scan: new models
   * load, changed ones reload (old versions serve until the new ones are ready), removed
   * ones unload. A model whose load failed is tried again when its files change.
   */
  async poll(): Promise<void> {
    const { sources, problems } = await scanRepositories(this.options.repositories);
    const seen = new Set([...sources.map((s) => s.name), ...problems.map((p) => p.name)]);
    const work: Promise<unknown>[] = [];
    for (const problem of problems) {
      work.push(this.serial(problem.name, async () => {
        const entry = this.entry(problem.name);
        if (entry.reason === problem.reason) return;
        await this.retireVersions(entry, [...entry.versions.keys()]);
        entry.versions.clear();
        entry.reason = problem.reason;
        entry.polled = undefined;
        this.options.logger.error({ model: problem.name, reason: problem.reason }, 'model failed to load');
        this.changed();
      }));
    }
    for (const source of sources) {
      work.push(this.serial(source.name, async () => {
        const fingerprint = await modelFingerprint(source.dir);
        const entry = this.models.get(source.name);
        if (entry?.polled === fingerprint) return;
        await this.apply(source, false).catch((err: unknown) => {
          this.options.logger.error({ model: source.name, reason: (err as Error).message }, 'model failed to load');
        });
        this.entry(source.name).polled = fingerprint;
      }));
    }
    for (const entry of this.models.values()) {
      if (entry.polled !== undefined && !seen.has(entry.name)) work.push(this.serial(entry.name, () => this.unloadEntry(entry)));
    }
    await Promise.all(work);
  }

  /**
   * RepositoryModelLoad: (re)loads a model from its repository directory, or from the
   * `file:` overrides with the `config` override. Resolves when every selected version
   * serves; throws Triton's errors otherwise (a version that served before keeps serving).
   */
  async load(name: string, overrides: LoadOverrides): Promise<void> {
    this.checkControl();
    if (name.trim() === '') {
      throw new InferError('MODEL_NAME_INVALID', name === '' ? 'model name must not be empty' : 'model name must not contain only whitespace characters');
    }
    if (name.includes('..') || name.includes('/')) {
      throw new InferError('MODEL_NAME_INVALID', `invalid model name ${quote(name)}, model name must not contain path traversal characters`);
    }
    await this.applyLoad(name, overrides);
  }

  /** RepositoryModelUnload: every version stops taking requests, finishes those it has, and unloads. */
  async unload(name: string): Promise<void> {
    this.checkControl();
    const entry = this.models.get(name);
    if (entry === undefined) return;
    await this.serial(name, () => this.unloadEntry(entry));
  }

  /** RepositoryIndex rows (see ModelTable.indexOf). */
  repositoryIndex(readyOnly: boolean): Promise<IndexRow[]> {
    return this.indexOf(this.options.repositories, readyOnly);
  }

  /** Stops every version (shutdown): running requests finish, queued ones fail. */
  async unloadAll(): Promise<void> {
    await Promise.all([...this.retiring]);
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
        this.overrides.release(v.overrideDir);
        this.changed();
      }),
    );
  }

  private checkControl(): void {
    if (this.options.control.mode !== 'explicit') {
      throw new InferError('MODEL_CONTROL_DISABLED', 'explicit model load / unload is not allowed if polling is enabled');
    }
  }

  private async applyLoad(name: string, overrides: LoadOverrides): Promise<void> {
    await this.serial(name, async () => {
      const pollFailed = (reason: string) => new InferError('MODEL_POLL_FAILED', `failed to load ${quote(name)}, failed to poll from model repository: ${reason}`);
      let source: ModelSource;
      let overrideDir: string | undefined;
      if (overrides.files.size > 0) {
        try {
          overrideDir = await materializeFiles(name, overrides, this.options.control.overrideMaxBytes);
        } catch (err) {
          throw pollFailed((err as Error).message);
        }
        source = await readSource(name, overrideDir, overrides.config);
      } else {
        const found = await findModel(this.options.repositories, name);
        if (found === undefined) throw pollFailed('model not found in any model repository');
        if (!('dir' in found)) throw pollFailed(found.reason);
        source = overrides.config !== undefined ? { ...found, configOverride: overrides.config } : found;
      }
      const failures = await this.apply(source, overrides.config !== undefined, overrideDir).catch((err: unknown) => {
        throw err instanceof ModelConfigError ? pollFailed(err.message) : err;
      });
      if (failures.length > 0) throw new InferError('MODEL_LOAD_FAILED', `load failed for model ${quote(name)}: ${failures.join('; ')}`);
    });
  }

  /**
   * Brings a model to what `source` says: each version the policy selects is built when
   * it is new or its files changed (or `force`), and swapped in once ready; versions no
   * longer selected are retired. Returns the reasons of versions that failed; throws
   * ModelConfigError when the config itself cannot be used (nothing changes then, except
   * that serving versions carry the reason).
   */
  private async apply(source: ModelSource, force: boolean, overrideDir?: string): Promise<string[]> {
    const entry = this.entry(source.name);
    // The load itself holds the directory until every version built from it has settled.
    this.overrides.hold(overrideDir);
    try {
      return await this.applyDefinition(entry, source, force, overrideDir);
    } finally {
      this.overrides.release(overrideDir);
    }
  }

  private async applyDefinition(entry: ModelEntry, source: ModelSource, force: boolean, overrideDir: string | undefined): Promise<string[]> {
    const logger = this.options.logger.child({ model: source.name });
    let definition;
    try {
      definition = await loadModelDefinition(source, this.options.definition);
    } catch (err) {
      const reason = (err as Error).message;
      const serving = [...entry.versions.values()].filter((v) => v.ready !== undefined);
      for (const v of serving) v.reason = `reload failed: ${reason}`;
      if (serving.length === 0) {
        entry.reason = reason;
        for (const version of source.versions.keys()) entry.versions.set(version, { version, state: 'UNAVAILABLE', reason });
      }
      this.changed();
      // A model file that does not read is a failed load (as in Triton), a config that does not is a failed poll.
      if (err instanceof ModelFileError) return [reason];
      throw err instanceof ModelConfigError ? err : new ModelConfigError(reason);
    }
    entry.reason = '';
    for (const warning of definition.warnings) logger.warn(warning);
    const failures: string[] = [];
    await Promise.all(
      definition.versions.map(async (version) => {
        const fingerprint = await versionFingerprint(source, version);
        const existing = entry.versions.get(version);
        if (!force && overrideDir === undefined && existing?.ready !== undefined && existing.fingerprint === fingerprint) return;
        const failure = await this.buildVersion(entry, definition, version, fingerprint, overrideDir);
        if (failure !== undefined) failures.push(failure);
      }),
    );
    const dropped = [...entry.versions.keys()].filter((v) => !definition.versions.includes(v));
    await this.retireVersions(entry, dropped);
    return failures.sort();
  }

  /** Builds one version beside the build that serves it (if any); returns the failure reason. */
  private async buildVersion(entry: ModelEntry, definition: Parameters<VersionBuilder['build']>[0], version: number, fingerprint: string, overrideDir: string | undefined): Promise<string | undefined> {
    const logger = this.options.logger.child({ model: entry.name, version });
    let state = entry.versions.get(version);
    if (state === undefined || state.ready === undefined) {
      state = { version, state: 'LOADING', reason: '' };
      entry.versions.set(version, state);
      this.changed();
    }
    this.overrides.hold(overrideDir);
    try {
      const ready = await this.builder.build(definition, version, logger);
      const old = state.ready === undefined ? undefined : { ...state };
      Object.assign(state, { ready, state: 'READY', reason: '', fingerprint, overrideDir });
      logger.info({ instances: definition.instances.map((i) => i.name), reload: old !== undefined }, 'model version is ready');
      this.changed();
      if (old !== undefined) this.retire(old, false);
      return undefined;
    } catch (err) {
      this.overrides.release(overrideDir);
      const reason = VersionBuilder.reason(entry.name, version, err);
      if (state.ready !== undefined) {
        state.reason = `reload failed: ${reason}`;
        logger.error({ reason }, 'model version failed to reload; the version loaded before keeps serving');
      } else {
        state.state = 'UNAVAILABLE';
        state.reason = reason;
        logger.error({ reason }, 'model version failed to load');
      }
      this.changed();
      return `version ${version}: ${reason}`;
    }
  }

  private async unloadEntry(entry: ModelEntry): Promise<void> {
    entry.polled = undefined;
    await this.retireVersions(entry, [...entry.versions.keys()]);
  }

  /** Versions stop taking requests at once (UNLOADING), then unload after their last one. */
  private async retireVersions(entry: ModelEntry, versions: readonly number[]): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const version of versions) {
      const v = entry.versions.get(version);
      if (v === undefined) continue;
      if (v.ready === undefined) {
        if (v.state !== 'UNAVAILABLE' || v.reason !== 'unloaded') Object.assign(v, { state: 'UNAVAILABLE', reason: 'unloaded' });
        continue;
      }
      const serving = { ...v };
      Object.assign(v, { state: 'UNLOADING', reason: '' });
      waits.push(
        this.retire(serving, true).then(() => {
          if (v.state === 'UNLOADING') Object.assign(v, { state: 'UNAVAILABLE', reason: 'unloaded', ready: undefined, fingerprint: undefined, overrideDir: undefined });
          this.changed();
        }),
      );
    }
    this.changed();
    await Promise.all(waits);
  }

  /** Retires one build: after its last accepted request, stops it and frees what it held. */
  private retire(build: VersionEntry, removed: boolean): Promise<void> {
    const servable = build.ready!.servable;
    const done = servable.retire().then(
      () => {
        this.overrides.release(build.overrideDir);
        if (removed) this.options.onVersionRemoved?.(build.ready!.info.name, build.version);
      },
      (err: unknown) => this.options.logger.error({ model: build.ready!.info.name, version: build.version, err: (err as Error).message }, 'unloading a model version failed'),
    );
    this.retiring.add(done);
    void done.finally(() => this.retiring.delete(done));
    return done;
  }

  /** Runs the operations on one model one after another. */
  private serial<T>(name: string, operation: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(name) ?? Promise.resolve();
    const next = previous.then(operation, operation);
    const tail = next.catch(() => undefined);
    this.chains.set(name, tail);
    void tail.then(() => {
      if (this.chains.get(name) === tail) this.chains.delete(name);
    });
    return next;
  }
}
