import type { Logger as PinoLogger } from 'pino';
import type { LogControl, LogSettingValues } from '../core/telemetry.js';

/**
 * Triton's log settings (LogSettings RPC) over pino. The levels map onto one pino level
 * for the root logger and every child made from it: verbose > 0 is debug, else the
 * lowest enabled of info, warning, error; none enabled is silent. `log_format` picks the
 * timestamp: ISO 8601 strings, or (Triton's "default") milliseconds since the epoch.
 * pino children copy their level when created, so the children are tracked (weakly)
 * and updated too. Main thread only.
 */
export class LogSettings implements LogControl {
  private values: LogSettingValues;
  private readonly children = new Set<WeakRef<PinoLogger>>();

  constructor(
    private readonly root: PinoLogger,
    initial: LogSettingValues,
    private readonly formatRef: { format: LogSettingValues['logFormat'] },
  ) {
    this.values = initial;
    this.formatRef.format = initial.logFormat;
  }

  /** Registers a child logger so level changes reach it (pino's onChild hook calls this). */
  track(child: PinoLogger): void {
    this.children.add(new WeakRef(child));
    child.level = this.level();
  }

  settings(): LogSettingValues {
    return this.values;
  }

  update(change: Partial<LogSettingValues>): void {
    this.values = { ...this.values, ...change };
    this.formatRef.format = this.values.logFormat;
    const level = this.level();
    this.root.level = level;
    for (const ref of this.children) {
      const child = ref.deref();
      if (child === undefined) this.children.delete(ref);
      else child.level = level;
    }
  }

  private level(): string {
    const v = this.values;
    if (v.logVerboseLevel > 0) return 'debug';
    if (v.logInfo) return 'info';
    if (v.logWarning) return 'warn';
    if (v.logError) return 'error';
    return 'silent';
  }
}
