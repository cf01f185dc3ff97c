import { readdir, readFile, realpath, stat } from 'node:fs/promises';
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
 * problem for that name only, and so is a model that links outside its repository (see
 * {@link escapingLink}). Throws only when a repository path itself cannot be read.
 */
export async function scanRepositories(repositories: readonly string[]): Promise<{ sources: ModelSource[]; problems: ScanProblem[] }> {
  const found = new Map<string, (ModelSource | ScanProblem)[]>();
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
      const escape = await escapingLink(repository, entry.name);
      const source = escape !== undefined ? { name: entry.name, reason: escape } : await readSource(entry.name, dir);
      found.set(entry.name, [...(found.get(entry.name) ?? []), source]);
    }
  }
  const sources: ModelSource[] = [];
  const problems: ScanProblem[] = [];
  for (const [name, list] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    const only = list[0]!;
    if (list.length === 1) {
      if ('dir' in only) sources.push(only);
      else problems.push(only);
    } else problems.push({ name, reason: `model '${name}' appears in more than one model repository: ${list.map((s) => ('dir' in s ? s.dir : name)).join(', ')}` });
  }
  return { sources, problems };
}

/**
 * The one model named `name` (explicit load): its directory in whichever repository holds
 * it. Undefined when no repository has it; a ScanProblem when two do.
 */
export async function findModel(repositories: readonly string[], name: string): Promise<ModelSource | ScanProblem | undefined> {
  const found: { repository: string; dir: string }[] = [];
  for (const repository of repositories) {
    const dir = path.resolve(repository, name);
    if (await isDirectory(dir)) found.push({ repository, dir });
  }
  if (found.length > 1) return { name, reason: `model '${name}' appears in more than one model repository: ${found.map((f) => f.dir).join(', ')}` };
  if (found.length === 0) return undefined;
  const escape = await escapingLink(found[0]!.repository, name);
  return escape !== undefined ? { name, reason: escape } : readSource(name, found[0]!.dir);
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

/**
 * Why a model must not be read, when its folder or one of its version folders is (or
 * sits behind) a symbolic link that resolves outside the model repository: serving it
 * would read a directory tree the repository's owner never put there. Links within the
 * repository (a version linked to another) are fine, and so are links to single files
 * (package managers and model caches link weights; scripts/make-ocr-repository.ts does).
 */
async function escapingLink(repository: string, name: string): Promise<string | undefined> {
  const root = await realpath(repository);
  const inside = (target: string) => target === root || target.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
  const check = async (entry: string): Promise<string | undefined> => {
    let target: string;
    try {
      target = await realpath(entry);
    } catch {
      return undefined; // a dangling link: reading it fails later with its own reason
    }
    if (inside(target)) return undefined;
    return `model '${name}': '${entry}' is a symbolic link to '${target}', outside the model repository '${repository}'; refused (copy the files into the repository, or link within it)`;
  };
  const modelDir = path.resolve(repository, name);
  const found = await check(modelDir);
  if (found !== undefined) return found;
  for (const entry of await readdir(modelDir, { withFileTypes: true })) {
    if (!entry.isSymbolicLink() || !/^[1-9]\d*$/.test(entry.name)) continue;
    const escape = await check(path.join(modelDir, entry.name));
    if (escape !== undefined) return escape;
  }
  return undefined;
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
