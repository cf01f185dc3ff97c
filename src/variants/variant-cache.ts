import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Int8Format } from '../core/int8-format.js';
import type { AccuracyFigures, Precision } from '../core/precision.js';

/**
 * The on-disk cache of built variants: `<cacheDir>/<hash>/` holds one `<stem>.onnx` file per
 * form built (`fp16`, `fp16-io`, `int8-<format>`) and `figures.json`. An entry is written to a temporary folder and renamed into place, so
 * a reader never sees half an entry. When the model's folder is read-only the entry goes
 * under the system temp folder instead.
 */

/** What the build measured for one form of a precision, or why it could not build it. */
export interface CachedFigures {
  readonly accuracy?: AccuracyFigures;
  readonly speedup?: number;
  readonly fileBytes?: number;
  readonly error?: string;
  /** For int8: the format of this form. */
  readonly int8Format?: Int8Format;
}

/** Each precision's forms, in the order built. */
export type CachedFiguresByPrecision = Partial<Record<Precision, readonly CachedFigures[]>>;

interface FiguresFile {
  readonly hash: string;
  /** The CPU the figures were measured on, for whoever reads the folder. */
  readonly builtOn: string;
  /** File stems: `<stem>.onnx` exists for each. */
  readonly files: readonly string[];
  readonly figures: CachedFiguresByPrecision;
}

const FIGURES = 'figures.json';

/** Folders an entry may be in: beside the model, then the temp fallback. */
function locations(cacheDir: string, hash: string): string[] {
  return [path.join(cacheDir, hash), path.join(os.tmpdir(), 'nereid-variants', hash)];
}

/** The cached entry for `hash` when it is complete, else undefined. */
export async function readCacheEntry(cacheDir: string, hash: string): Promise<{ entry: string; figures: FiguresFile['figures'] } | undefined> {
  for (const entry of locations(cacheDir, hash)) {
    try {
      const file = JSON.parse(await readFile(path.join(entry, FIGURES), 'utf8')) as FiguresFile;
      if (file.hash !== hash) continue;
      await Promise.all(file.files.map((stem) => stat(path.join(entry, `${stem}.onnx`))));
      return { entry, figures: file.figures };
    } catch {
      // absent or incomplete: try the next location, then rebuild
    }
  }
  return undefined;
}

/** Writes an entry and returns its folder. */
export async function writeCacheEntry(
  cacheDir: string,
  hash: string,
  files: ReadonlyMap<string, Uint8Array>,
  figures: CachedFiguresByPrecision,
  builtOn: string,
  log: (level: 'info' | 'warn', message: string) => void,
): Promise<string> {
  const [beside, fallback] = locations(cacheDir, hash) as [string, string];
  try {
    return await writeEntry(beside, { hash, builtOn, files: [...files.keys()], figures }, files);
  } catch (err) {
    log('warn', `cannot cache variants beside the model (${(err as Error).message}); using ${fallback}`);
    return writeEntry(fallback, { hash, builtOn, files: [...files.keys()], figures }, files);
  }
}

async function writeEntry(entry: string, content: FiguresFile, files: ReadonlyMap<string, Uint8Array>): Promise<string> {
  const { hash } = content;
  const staging = `${entry}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  await mkdir(staging, { recursive: true });
  try {
    for (const [stem, bytes] of files) await writeFile(path.join(staging, `${stem}.onnx`), bytes);
    await writeFile(path.join(staging, FIGURES), `${JSON.stringify(content, null, 2)}\n`);
    try {
      await rename(staging, entry);
    } catch (err) {
      // Another server process sharing the repository built the same entry first: equal hash,
      // equal content, and it may already be loading those files, so keep it. Replace only
      // an incomplete one (a writer that died half-way cannot leave one; a person might).
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      if ((await readCacheEntry(path.dirname(entry), hash))?.entry !== entry) {
        await rm(entry, { recursive: true, force: true });
        await rename(staging, entry);
      }
    }
    return entry;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
