import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { LogSettingValues } from '../core/telemetry.js';
import { LogSettings } from './log-settings.js';

/** How log lines are written: JSON (for collectors) or coloured text (for people). */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly format: LogFormat;
  /** Triton's log_format at start: ISO 8601 timestamps (the default here) or milliseconds since the epoch. */
  readonly timestamps?: LogSettingValues['logFormat'];
  /** Append lines to this file (Triton's --log-file); opened at once, so a bad path throws here. */
  readonly file?: string | undefined;
  /** Destination for the lines; stdout when absent (tests pass a stream). */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The server's root logger (pino) and the LogSettings that control it at run time. Every
 * module gets a child of it from its creator; no module reaches for a global one. Worker
 * threads send their lines here by message.
 */
export function createLogging(options: LoggerOptions): { logger: PinoLogger; settings: LogSettings } {
  const formatRef: { format: LogSettingValues['logFormat'] } = { format: options.timestamps ?? 'ISO8601' };
  let settings: LogSettings | undefined;
  const base: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'nereid' },
    timestamp: () => (formatRef.format === 'ISO8601' ? `,"time":"${new Date().toISOString()}"` : `,"time":${Date.now()}`),
    onChild: (child) => settings?.track(child),
  };
  // Synchronous writes, as pino's stdout default: a line logged just before a crash is not lost.
  const file = options.file === undefined ? undefined : pino.destination({ dest: options.file, append: true, sync: true });
  const destination = options.destination ?? file;
  const logger =
    options.format === 'pretty'
      ? pino(base, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination: destination ?? 1, colorize: destination === undefined ? undefined : false }))
      : destination === undefined
        ? pino(base)
        : pino(base, destination);
  settings = new LogSettings(logger, { ...initialValues(options.level), logFormat: formatRef.format }, formatRef);
  return { logger, settings };
}

/** The LogSettings values that describe a starting level. */
function initialValues(level: LoggerOptions['level']): LogSettingValues {
  const at = (l: string) => ['debug', 'info', 'warn', 'error'].indexOf(level) <= ['debug', 'info', 'warn', 'error'].indexOf(l);
  return {
    logInfo: level !== 'silent' && at('info'),
    logWarning: level !== 'silent' && at('warn'),
    logError: level !== 'silent' && at('error'),
    logVerboseLevel: level === 'debug' ? 1 : 0,
    logFormat: 'ISO8601',
  };
}

/** Just the logger, for tools and tests that need no run-time control. */
export function createLogger(options: LoggerOptions): PinoLogger {
  return createLogging(options).logger;
}
