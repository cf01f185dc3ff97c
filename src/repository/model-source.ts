import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** A model directory found in a repository, before its config is interpreted. */
export interface ModelSource {
  readonly name: string;
  readonly dir: string;
  /** config.pbtxt contents, or undefined when the directory has none. */
  readonly configText: string | undefined;
  /** Numeric version directories: version -> absolute path. */
  readonly versions: ReadonlyMap<number, string>;
  /** A RepositoryModelLoad `config` override, used instead of config.pbtxt. */
  readonly configOverride?: string;
}

/** A directory that could not become a ModelSource (e.g. a name found in two repositories). */
export interface ScanProblem {
  readonly name: string;
  readonly reason: string;
}

/**
 * Lists the models of every repository (Triton layout: `<repo>/<model>/config.pbtxt`,
 * `<repo>/<model>/<version>/...`). Version directories must be numeric without a leading
 * zero; others are ignored, as in Triton. A model name present in two repositories is a
 * problem for that name only. Throws only when a repository path itself cannot be read.
 */
export async function scanRepositories(repositories: readonly string[]): Promise<{ sources: ModelSource[]; problems: ScanProblem[] }> {
  const found = new Map<string, ModelSource[]>();
  for (const repository of repositories) {
    let entries;
    try {
      entries = await readdir(repository, { withFileTypes: true });
    } catch (err) {
      throw new Error(`cannot read model repository '${repository}': ${(err as Error).message}`);
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const dir = path.resolve(repository, entry.name);
      if (!(await isDirectory(dir))) continue;
      const source = await readSource(entry.name, dir);
      found.set(entry.name, [...(found.get(entry.name) ?? []), source]);
    }
  }
  const sources: ModelSource[] = [];
  const problems: ScanProblem[] = [];
  for (const [name, list] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    if (list.length === 1) sources.push(list[0]!);
    else problems.push({ name, reason: `model '${name}' appears in more than one model repository: ${list.map((s) => s.dir).join(', ')}` });
  }
  return { sources, problems };
}

/**
 * The one model named `name` (explicit load): its directory in whichever repository holds
 * it. Undefined when no repository has it; a ScanProblem when two do.
 */
export async function findModel(repositories: readonly string[], name: string): Promise<ModelSource | ScanProblem | undefined> {
  const dirs: string[] = [];
  for (const repository of repositories) {
    const dir = path.resolve(repository, name);
    if (await isDirectory(dir)) dirs.push(dir);
  }
  if (dirs.length > 1) return { name, reason: `model '${name}' appears in more than one model repository: ${dirs.join(', ')}` };
  return dirs.length === 0 ? undefined : readSource(name, dirs[0]!);
}

/** Reads a model directory (a repository's, or the private copy of a file: override). */
export async function readSource(name: string, dir: string, configOverride?: string): Promise<ModelSource> {
  let configText: string | undefined;
  try {
    configText = await readFile(path.join(dir, 'config.pbtxt'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const versions = new Map<number, string>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (!/^[1-9]\d*$/.test(entry.name)) continue;
    const versionDir = path.join(dir, entry.name);
    if (await isDirectory(versionDir)) versions.set(Number(entry.name), versionDir);
  }
  return { name, dir, configText, versions, ...(configOverride !== undefined ? { configOverride } : {}) };
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
