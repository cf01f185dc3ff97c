import { pino, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';

/** How log lines are written: JSON (for collectors) or coloured text (for people). */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  readonly level: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  readonly format: LogFormat;
  /** Destination for the lines; stdout when absent. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The server's root logger (pino). Every module gets a child of it from its creator; no
 * module reaches for a global one. Worker threads send their lines here by message.
 */
export function createLogger(options: LoggerOptions): PinoLogger {
  const base = { level: options.level, base: { service: 'nereid' }, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.format === 'pretty') {
    return pino(base, pretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', destination: options.destination ?? 1 }));
  }
  return options.destination === undefined ? pino(base) : pino(base, options.destination);
}
