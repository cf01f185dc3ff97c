import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clip, quote } from '../core/client-text.js';
import { ModelConfigError } from './config-error.js';

/** The override parameters of one RepositoryModelLoad, checked for type by the transport. */
export interface LoadOverrides {
  /** `config`: a ModelConfig in JSON that replaces config.pbtxt. */
  readonly config?: string;
  /** `file:<relative path>` -> contents; with any, they are the model's only files. */
  readonly files: ReadonlyMap<string, Uint8Array>;
}

/** Longest name of one path component Linux accepts (NAME_MAX), in bytes. */
const NAME_MAX = 255;
/** Longest relative path accepted in a `file:` parameter (PATH_MAX), in bytes. */
const PATH_MAX = 4096;
export const FILE_PREFIX = 'file:';

/**
 * Writes the `file:` overrides of a load into a fresh private directory (mode 0700 under
 * the system temp dir) and returns it; the repository is never written. Each path must
 * stay inside the model's directory: relative, no `.`/`..`/empty component, no NUL, each
 * name within NAME_MAX and the path within PATH_MAX; the files together within
 * `maxBytes`. Files are created exclusively in directories made here, so no link can
 * redirect a write. Throws ModelConfigError (Triton reports these as a failed poll) and
 * removes what it wrote.
 */
export async function materializeFiles(model: string, overrides: LoadOverrides, maxBytes: number): Promise<string> {
  if (overrides.config === undefined) throw new ModelConfigError("Load parameter 'config' must be specified for model file override");
  let total = 0;
  const plan: { target: string[]; bytes: Uint8Array }[] = [];
  for (const [name, bytes] of overrides.files) {
    plan.push({ target: checkedPath(name), bytes });
    total += bytes.byteLength;
  }
  if (total > maxBytes) {
    throw new ModelConfigError(`the file: overrides of model ${quote(model)} hold ${total} bytes, more than --model-override-max-bytes allows (${maxBytes})`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'nereid-override-'));
  try {
    const files = new Set(plan.map((p) => p.target.join('/')));
    for (const { target, bytes } of plan) {
      for (let i = 1; i < target.length; i++) {
        const parent = target.slice(0, i).join('/');
        if (files.has(parent)) throw new ModelConfigError(`Invalid file parameter '${FILE_PREFIX}${clip(target.join('/'))}', directory '${clip(parent)}' has been created as a file`);
      }
      await mkdir(path.join(dir, ...target.slice(0, -1)), { recursive: true, mode: 0o700 });
      await writeFile(path.join(dir, ...target), bytes, { flag: 'wx', mode: 0o600 });
    }
    return dir;
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err instanceof ModelConfigError ? err : new ModelConfigError(`cannot write the file: overrides of model ${quote(model)}: ${(err as Error).message}`);
  }
}

/** Removes a directory made by materializeFiles. */
export async function removeFiles(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** The components of a `file:` parameter's path, or Triton-style errors for an unsafe one. */
function checkedPath(parameter: string): string[] {
  const relative = parameter.slice(FILE_PREFIX.length);
  const outside = () =>
    new ModelConfigError(`Invalid file parameter ${quote(parameter)}: the path must stay within model directory (relative, without '.', '..' or empty components)`);
  if (relative === '' || relative.startsWith('/') || relative.includes('\0') || relative.includes('\\')) throw outside();
  if (Buffer.byteLength(relative) > PATH_MAX) throw new ModelConfigError(`Invalid file path in ${quote(parameter)}: longer than ${PATH_MAX} bytes`);
  const parts = relative.split('/');
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..') throw outside();
    if (Buffer.byteLength(part) > NAME_MAX) {
      throw new ModelConfigError(`Invalid file path in ${quote(parameter)}: the name ${quote(part)} is longer than ${NAME_MAX} bytes`);
    }
  }
  return parts;
}
