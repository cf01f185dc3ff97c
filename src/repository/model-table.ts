import { quote } from '../core/client-text.js';
import { InferError } from '../core/errors.js';
import { scanRepositories } from './model-source.js';
import type { ReadyModel } from './version-builder.js';
import { parseVersionString } from './version-string.js';

/** Triton's model version states, as RepositoryIndex reports them. */
export type VersionState = 'UNKNOWN' | 'LOADING' | 'READY' | 'UNAVAILABLE' | 'UNLOADING';

/** One version of a model. While a new build loads, `ready` still serves the old one. */
export interface VersionEntry {
  readonly version: number;
  state: VersionState;
  reason: string;
  ready?: ReadyModel;
  /** What the serving build was made from (model-fingerprint.ts). */
  fingerprint?: string;
  /** The private `file:` override directory the serving build reads, if any. */
  overrideDir?: string;
}

export interface ModelEntry {
  readonly name: string;
  readonly versions: Map<number, VersionEntry>;
  /** Why the model as a whole cannot load ('' when it could). */
  reason: string;
  /** Fingerprint of its directory at the last repository scan (poll and start-up). */
  polled?: string;
}

/** A RepositoryIndex row; version, state and reason are '' for a model never loaded. */
export interface IndexRow {
  readonly name: string;
  readonly version: string;
  readonly state: VersionState | '';
  readonly reason: string;
}

/**
 * The table of models and versions, and every read of it: lookups for requests with
 * Triton's errors, readiness, the repository index. ModelRegistry extends it with the
 * operations that change it. Main thread only.
 */
export class ModelTable {
  protected readonly models = new Map<string, ModelEntry>();
  private readonly listeners: (() => void)[] = [];

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

  /** Every model name the server has tried to load, sorted. */
  modelNames(): string[] {
    return [...this.models.keys()].sort();
  }

  /**
   * Triton's strict readiness: every model the server has tried to load has versions,
   * each READY or unloaded on request (an unloaded model does not make the server unready).
   */
  allReady(): boolean {
    return [...this.models.values()].every(
      (entry) => entry.versions.size > 0 && [...entry.versions.values()].every((v) => v.state === 'READY' || (v.state === 'UNAVAILABLE' && v.reason === 'unloaded')),
    );
  }

  /** Each model's versions with their state and reason, for models the server has tried to load (logs, start-up). */
  index(): IndexRow[] {
    const rows: IndexRow[] = [];
    for (const entry of [...this.models.values()].sort((a, b) => a.name.localeCompare(b.name))) rows.push(...this.rowsOf(entry, false));
    return rows;
  }

  /**
   * RepositoryIndex: every model found in the repositories, loaded or not (name only when
   * never loaded), plus any loaded from overrides alone; with `readyOnly`, READY versions only.
   */
  protected async indexOf(repositories: readonly string[], readyOnly: boolean): Promise<IndexRow[]> {
    const { sources, problems } = await scanRepositories(repositories);
    const names = new Set([...sources.map((s) => s.name), ...problems.map((p) => p.name), ...this.models.keys()]);
    const rows: IndexRow[] = [];
    for (const name of [...names].sort()) {
      const entry = this.models.get(name);
      const problem = problems.find((p) => p.name === name);
      if (problem !== undefined && (entry === undefined || entry.versions.size === 0)) {
        if (!readyOnly) rows.push({ name, version: '', state: 'UNAVAILABLE', reason: problem.reason });
      } else if (entry === undefined || (entry.versions.size === 0 && entry.reason === '')) {
        if (!readyOnly) rows.push({ name, version: '', state: '', reason: '' });
      } else {
        rows.push(...this.rowsOf(entry, readyOnly));
      }
    }
    return rows;
  }

  /** Every ready version (for statistics, metrics and tests). */
  readyModels(): ReadyModel[] {
    return [...this.models.values()].flatMap((entry) => this.readyVersions(entry).map((v) => v.ready!));
  }

  /** Registers a callback run whenever a version changes state (health watches use it). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  protected changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** The entry of a model, created empty on first use. */
  protected entry(name: string): ModelEntry {
    let entry = this.models.get(name);
    if (entry === undefined) {
      entry = { name, versions: new Map(), reason: '' };
      this.models.set(name, entry);
    }
    return entry;
  }

  private rowsOf(entry: ModelEntry, readyOnly: boolean): IndexRow[] {
    if (entry.versions.size === 0) return readyOnly ? [] : [{ name: entry.name, version: '', state: 'UNAVAILABLE', reason: entry.reason }];
    return [...entry.versions.values()]
      .filter((v) => !readyOnly || v.state === 'READY')
      .sort((a, b) => a.version - b.version)
      .map((v) => ({ name: entry.name, version: String(v.version), state: v.state, reason: v.reason }));
  }

  private readyVersions(entry: ModelEntry): VersionEntry[] {
    return [...entry.versions.values()].filter((v) => v.state === 'READY').sort((a, b) => a.version - b.version);
  }
}
