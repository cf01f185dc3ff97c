/**
 * The logging port. pino's Logger satisfies it; tests can pass a silent one. Modules get a
 * logger from their creator (usually a child with their bindings), never from a global.
 */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogFn = (objOrMessage: Record<string, unknown> | string, message?: string) => void;
