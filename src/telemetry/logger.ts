import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import type { LogSettingValues } from '../core/telemetry.js';
import { LogSettings } from './log-settings.js';

/** How log lines are written: JSON (for collectors) or coloured text (for people). */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly format: LogFormat;
  /** Destination for the lines; stdout when absent. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The server's root logger (pino) and the LogSettings that control it at run time. Every
 * module gets a child of it from its creator; no module reaches for a global one. Worker
 * threads send their lines here by message.
 */
export function createLogging(options: LoggerOptions): { logger: PinoLogger; settings: LogSettings } {
  const formatRef: { format: LogSettingValues['logFormat'] } = { format: 'ISO8601' };
  let settings: LogSettings | undefined;
  const base: pino.LoggerOptions = {
    level: options.level,
    base: { service: 'nereid' },
    timestamp: () => (formatRef.format === 'ISO8601' ? `,"time":"${new Date().toISOString()}"` : `,"time":${Date.now()}`),
    onChild: (child) => settings?.track(child),
  };
  const logger =
    options.format === 'pretty'
      ? pino(base, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination: options.destination ?? 1 }))
      : options.destination === undefined
        ? pino(base)
        : pino(base, options.destination);
  settings = new LogSettings(logger, initialValues(options.level), formatRef);
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
