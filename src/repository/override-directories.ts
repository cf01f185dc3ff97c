import type { Logger } from '../core/logger.js';
import { removeFiles } from './load-overrides.js';

/**
 * The private directories of `file:` overrides, each removed once nothing uses it: the
 * load that wrote it holds it until every version built from it has settled, and each
 * version that serves from it holds it until it is retired (an instance that restarts
 * reads its model file again). Main thread only.
 */
export class OverrideDirectories {
  private readonly users = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** One more user of `dir` (undefined: not an override, nothing to count). */
  hold(dir: string | undefined): void {
    if (dir !== undefined) this.users.set(dir, (this.users.get(dir) ?? 0) + 1);
  }

  /** One user fewer; the last one removes the directory. */
  release(dir: string | undefined): void {
    if (dir === undefined) return;
    const users = (this.users.get(dir) ?? 1) - 1;
    if (users > 0) {
      this.users.set(dir, users);
      return;
    }
    this.users.delete(dir);
    removeFiles(dir).catch((err: unknown) => this.logger.warn({ dir, err: (err as Error).message }, 'could not remove a file override directory'));
  }
}
