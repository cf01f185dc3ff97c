import type { ServerConfig } from './server-config.js';
import { envName, OPTIONS, type OptionSpec } from './options.js';
import { parseTraceConfig } from './trace-config.js';

/** A bad flag or environment variable; the message names it. Exit status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** What the command line asked for besides a configuration. */
export type CommandLine = { kind: 'run'; config: ServerConfig } | { kind: 'help' } | { kind: 'version' };

type RawValues = Map<string, string[]>;

/**
 * Parses flags (`--name value`, `--name=value`; a bool flag alone means true) and
 * NEREID_* variables (flags win), fills defaults, validates every value once, and
 * returns a frozen ServerConfig. `terminal` says whether stdout is a TTY (for
 * --log-format auto). Throws ConfigError naming the first bad flag.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, terminal = false): CommandLine {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  if (argv.includes('--version')) return { kind: 'version' };
  const values = readEnv(env);
  const fromEnv = new Set(values.keys());
  for (const [name, list] of readArgv(argv)) {
    values.set(name, list);
    fromEnv.delete(name);
  }
  // Errors name what the user wrote: the flag, or the variable that stood in for it.
  const label = (name: string) => (fromEnv.has(name) ? `${envName(findOption(name))} (--${name})` : `--${name}`);
  return { kind: 'run', config: deepFreeze(buildConfig(values, terminal, env, label)) };
}

function readArgv(argv: readonly string[]): RawValues {
  const values: RawValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--')) throw new ConfigError(`unexpected argument '${token}'; flags start with --`);
    const eq = token.indexOf('=');
    const name = token.slice(2, eq < 0 ? undefined : eq);
    const option = findOption(name);
    let value: string;
    const next = argv[i + 1];
    if (eq >= 0) value = token.slice(eq + 1);
    else if (next !== undefined && !next.startsWith('--')) value = argv[++i]!;
    else if (option.kind === 'bool') value = 'true';
    else throw new ConfigError(`--${name} needs a value`);
    const list = option.kind === 'list' ? [...(values.get(option.name) ?? []), value] : [value];
    values.set(option.name, list);
  }
  return values;
}

function readEnv(env: NodeJS.ProcessEnv): RawValues {
  const values: RawValues = new Map();
  for (const option of OPTIONS) {
    const raw = env[envName(option)];
    if (raw === undefined || raw === '') continue;
    const separator = option.envSeparator;
    values.set(option.name, separator !== undefined ? raw.split(separator).map((s) => s.trim()).filter(Boolean) : [raw]);
  }
  return values;
}

function findOption(name: string): OptionSpec {
  const option = OPTIONS.find((o) => o.name === name || o.aliases?.includes(name));
  if (option === undefined) throw new ConfigError(`unknown flag --${name}; run with --help for the list`);
  return option;
}

function buildConfig(values: RawValues, terminal: boolean, env: NodeJS.ProcessEnv, label: (name: string) => string): ServerConfig {
  const str = (name: string, fallback: string) => values.get(name)?.at(-1) ?? fallback;
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = values.get(name)?.at(-1);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || value < min || value > max) {
      throw new ConfigError(`invalid value '${raw}' for ${label(name)}: expected an integer from ${min} to ${max}`);
    }
    return value;
  };
  const bool = (name: string, fallback: boolean) => {
    const raw = values.get(name)?.at(-1);
    if (raw === undefined) return fallback;
    if (/^(true|1|yes|on)$/i.test(raw)) return true;
    if (/^(false|0|no|off)$/i.test(raw)) return false;
    throw new ConfigError(`invalid value '${raw}' for ${label(name)}: expected true or false`);
  };
  const oneOf = <T extends string>(name: string, fallback: T, allowed: readonly T[]): T => {
    const raw = str(name, fallback);
    if (!(allowed as readonly string[]).includes(raw)) {
      throw new ConfigError(`invalid value '${raw}' for ${label(name)}: expected one of ${allowed.join(', ')}`);
    }
    return raw as T;
  };

  const repositories = values.get('model-repository') ?? [];
  if (repositories.length === 0) throw new ConfigError('--model-repository is required (or NEREID_MODEL_REPOSITORY)');
  const format = oneOf('log-format', 'auto', ['auto', 'json', 'pretty'] as const);
  const verbose = int('log-verbose', 0, 0, 1000);
  const level = oneOf('log-level', 'info', ['debug', 'info', 'warn', 'error'] as const);
  let trace: ServerConfig['trace'];
  try {
    trace = parseTraceConfig(values.get('trace-config') ?? [], env, label('trace-config'));
  } catch (err) {
    // The message names the entry (after the flag) or the OTEL_* variable at fault.
    throw new ConfigError((err as Error).message);
  }
  return {
    modelRepositories: repositories,
    serverName: str('server-name', 'nereid'),
    grpc: {
      address: str('grpc-address', '0.0.0.0'),
      port: int('grpc-port', 8001, 0, 65535),
      keepaliveTimeMs: int('grpc-keepalive-time', 7_200_000, 1, 2 ** 31 - 1),
      keepaliveTimeoutMs: int('grpc-keepalive-timeout', 20_000, 1, 2 ** 31 - 1),
      maxConnectionAgeMs: int('grpc-max-connection-age', 0, 0, 2 ** 31 - 1),
      receiveWindowBytes: int('grpc-receive-window', 4 * 1024 * 1024, 0, 2 ** 31 - 1),
    },
    modelControl: modelControl(values, int, oneOf, label),
    sharedMemory: { allowClient: bool('allow-client-shm', false) },
    exitOnError: bool('exit-on-error', false),
    strictReadiness: bool('strict-readiness', true),
    autoCompleteConfig: !bool('disable-auto-complete-config', false),
    defaultMaxBatchSize: backendSetting(values.get('backend-config') ?? [], label('backend-config')),
    exitTimeoutSecs: int('exit-timeout-secs', 30, 0, 86_400),
    trace,
    metrics: {
      enabled: bool('allow-metrics', true),
      address: str('metrics-address', '0.0.0.0'),
      port: int('metrics-port', 8002, 0, 65535),
    },
    log: {
      level: verbose > 0 ? 'debug' : level,
      format: format === 'auto' ? (terminal ? 'pretty' : 'json') : format,
    },
  };
}

/**
 * Triton's rules: --load-model only with explicit mode, `*` alone, and polling only in
 * poll mode (--repository-poll-secs is ignored elsewhere).
 */
function modelControl(
  values: RawValues,
  int: (name: string, fallback: number, min: number, max: number) => number,
  oneOf: <T extends string>(name: string, fallback: T, allowed: readonly T[]) => T,
  label: (name: string) => string,
): ServerConfig['modelControl'] {
  const mode = oneOf('model-control-mode', 'none', ['none', 'poll', 'explicit'] as const);
  const startupModels = values.get('load-model') ?? [];
  if (startupModels.length > 0 && mode !== 'explicit') {
    throw new ConfigError(`${label('load-model')} requires --model-control-mode=explicit as well (as in Triton)`);
  }
  if (startupModels.includes('*') && startupModels.length > 1) {
    throw new ConfigError(`${label('load-model')}: wildcard model name '*' must be the only startup model if specified at all`);
  }
  const pollSecs = int('repository-poll-secs', 15, 0, 86_400);
  const overrideMaxBytes = int('model-override-max-bytes', 1024 ** 3, 0, 2 ** 53 - 1);
  return { mode, startupModels, pollSecs: mode === 'poll' ? pollSecs : 0, overrideMaxBytes };
}

function backendSetting(entries: readonly string[], where: string): number {
  let maxBatch = 4;
  for (const entry of entries) {
    const match = /^onnxruntime,default-max-batch-size=(\d+)$/.exec(entry);
    if (match === null) {
      throw new ConfigError(`invalid value '${entry}' for ${where}: supported is onnxruntime,default-max-batch-size=<n>`);
    }
    maxBatch = Number(match[1]);
  }
  return maxBatch;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
