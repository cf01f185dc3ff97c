import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelSource } from './model-source.js';

/**
 * What decides whether a loaded version must be reloaded: Triton reloads a version when
 * its config, its version directory or any other file of the model (labels, calibration
 * data) changed. Here a fingerprint hashes the relative path, size and modification time
 * of every file involved, plus the config text (or override), so a change of any of them
 * (a new file, a rewritten one, a new version folder) gives a new fingerprint. Reading
 * metadata only: the files themselves are not read.
 */
export async function versionFingerprint(source: ModelSource, version: number): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`config\0${source.configOverride ?? source.configText ?? ''}\0`);
  for (const line of await listing(source.dir, (name) => !/^\d+$/.test(name) && name !== 'config.pbtxt')) hash.update(line);
  const versionDir = source.versions.get(version);
  if (versionDir !== undefined) for (const line of await listing(versionDir, () => true)) hash.update(`${version}/${line}`);
  return hash.digest('hex');
}

/** One fingerprint for a whole model directory (poll mode's "did anything change"). */
export async function modelFingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const line of await listing(dir, () => true)) hash.update(line);
  return hash.digest('hex');
}

/** `relative\0size\0mtime\n` for every file under `dir` whose top-level name passes `keep`, sorted. */
async function listing(dir: string, keep: (topName: string) => boolean): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (current: string, relative: string, depth: number): Promise<void> => {
    let entries;
    try {
      entries = await readdir(current, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (depth === 0 && !keep(entry.name)) continue;
      const full = path.join(current, entry.name);
      const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        // Bounded depth: a model directory is shallow; a deep tree is not worth hashing.
        if (depth < 8) await walk(full, rel, depth + 1);
        continue;
      }
      try {
        const info = await stat(full);
        lines.push(`${rel}\0${info.size}\0${info.mtimeMs}\n`);
      } catch {
        lines.push(`${rel}\0missing\n`);
      }
    }
  };
  await walk(dir, '', 0);
  return lines.sort();
}
