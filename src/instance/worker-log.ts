import { format } from 'node:util';
import type { Logger, LogFn } from '../core/logger.js';
import type { LogMessage } from './messages.js';

type Level = LogMessage['level'];

/**
 * The logger of an instance's worker thread. Workers never write to stdout or stderr
 * themselves (their lines would reach the process out of order and without the JSON
 * shape); each line is posted to the main thread, whose ModelInstance logs it through the
 * instance's logger, adding model, version, instance and the trace ids of the execution
 * in flight. `bindings` of child loggers travel as the line's fields. Worker thread only.
 */
export function workerLogger(post: (message: LogMessage) => void, bindings: Readonly<Record<string, unknown>> = {}): Logger {
  const at =
    (level: Level): LogFn =>
    (objOrMessage, message) => {
      const fields = typeof objOrMessage === 'string' ? {} : objOrMessage;
      const text = typeof objOrMessage === 'string' ? objOrMessage : (message ?? '');
      post({ type: 'log', level, message: text, fields: { ...bindings, ...fields } });
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => workerLogger(post, { ...bindings, ...more }),
  };
}

/**
 * Sends what code running in the worker writes to its console (ONNX Runtime's JavaScript
 * layer warns there, e.g. when it drops an execution provider) through `logger`. Replacing
 * the console is acceptable here because the worker's global scope belongs to the instance
 * alone; the main thread's console is untouched.
 */
export function forwardConsole(logger: Logger): void {
  const to = (level: Level) => (...args: unknown[]) => logger[level]({ source: 'console' }, format(...args));
  Object.assign(console, { log: to('info'), info: to('info'), debug: to('debug'), trace: to('debug'), warn: to('warn'), error: to('error') });
}
