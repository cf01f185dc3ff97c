import { ConfigError } from './config-error.js';
import type { LogConfig } from './server-config.js';
import type { ValueReaders } from './value-readers.js';

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const ENCODINGS = ['auto', 'json', 'pretty'] as const;
const TIMESTAMPS = ['ISO8601', 'default'] as const;

/**
 * Logging from Nereid's flags and Triton's. The level is the lowest one enabled:
 * `--log-verbose` > 0 (or true) is debug, then `--log-level`, raised by Triton's
 * `--log-info/--log-warning/--log-error=false`; all three false is silent. `--log-format`
 * takes Nereid's encodings (json, pretty, auto) and Triton's timestamp formats
 * (ISO8601, default = milliseconds since the epoch), one of each.
 */
export function readLogConfig(read: ValueReaders, terminal: boolean): LogConfig {
  let encoding: (typeof ENCODINGS)[number] = 'auto';
  let timestamps: (typeof TIMESTAMPS)[number] = 'ISO8601';
  for (const value of read.list('log-format').flatMap((v) => v.split(',')).map((v) => v.trim())) {
    if ((ENCODINGS as readonly string[]).includes(value)) encoding = value as typeof encoding;
    else if ((TIMESTAMPS as readonly string[]).includes(value)) timestamps = value as typeof timestamps;
    else throw new ConfigError(`invalid value '${value}' for ${read.label('log-format')}: expected one of ${[...ENCODINGS, ...TIMESTAMPS].join(', ')}`);
  }
  const verboseRaw = read.given('log-verbose');
  // Triton reads --log-verbose as an integer or true/false.
  const verbose = verboseRaw !== undefined && /^(true|false)$/i.test(verboseRaw) ? (verboseRaw.toLowerCase() === 'true' ? 1 : 0) : read.int('log-verbose', 0, 0, 1000);
  const base = read.oneOf('log-level', 'info', LEVELS);
  const enabled = (level: (typeof LEVELS)[number], flag: string) => LEVELS.indexOf(base) <= LEVELS.indexOf(level) && read.bool(flag, true);
  let level: LogConfig['level'] = 'silent';
  if (verbose > 0) level = 'debug';
  else if (base === 'debug' && read.bool('log-info', true)) level = 'debug';
  else if (enabled('info', 'log-info')) level = 'info';
  else if (enabled('warn', 'log-warning')) level = 'warn';
  else if (enabled('error', 'log-error')) level = 'error';
  const file = read.given('log-file');
  if (file === '') throw new ConfigError(`${read.label('log-file')} needs a file name`);
  // auto means pretty only for a person at a terminal; a log file gets JSON.
  const format = encoding === 'auto' ? (terminal && file === undefined ? 'pretty' : 'json') : encoding;
  return { level, format, timestamps, file };
}
