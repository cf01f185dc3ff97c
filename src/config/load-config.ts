import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ServerConfig } from './server-config.js';
import { ConfigError } from './config-error.js';
import { readCacheConfig } from './cache-config.js';
import { readGrpcConfig } from './grpc-config.js';
import { readMetricsConfig } from './metrics-config.js';
import { readHttpConfig } from './http-config.js';
import { readLogConfig } from './log-config.js';
import { readLimitsConfig } from './limits-config.js';
import { envName, OPTIONS, type OptionSpec } from './options.js';
import { parseTraceConfig } from './trace-config.js';
import { TRITON_FLAGS, tritonBool, type TritonFlag } from './triton-flags.js';
import type { ValueReaders } from './value-readers.js';

export { ConfigError } from './config-error.js';

/** A flag accepted with a warning (logged once the logger exists); one per flag. */
export interface ConfigWarning {
  readonly flag: string;
  readonly message: string;
}

/** What the command line asked for besides a configuration. */
export type CommandLine = { kind: 'run'; config: ServerConfig; warnings: readonly ConfigWarning[] } | { kind: 'help' } | { kind: 'version' };

type RawValues = Map<string, string[]>;

/** One occurrence of a tritonserver flag Nereid has no option for. */
interface TritonUse {
  readonly flag: TritonFlag;
  readonly value: string;
}

/**
 * Parses flags (`--name value`, `--name=value`; a bool flag alone means true) and
 * NEREID_* variables (flags win), fills defaults, validates every value once, and
 * returns a frozen ServerConfig. `terminal` says whether stdout is a TTY (for
 * --log-format auto). Throws ConfigError naming the first bad flag.
 */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv, terminal = false): CommandLine {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help' };
  if (argv.includes('--version')) return { kind: 'version' };
  // A command line copied with its program name (KServe's runtime passes `tritonserver` first).
  const args = argv.length > 0 && /(^|\/)tritonserver$/.test(argv[0]!) ? argv.slice(1) : argv;
  const values = readEnv(env);
  const fromEnv = new Set(values.keys());
  const { values: given, triton } = readArgv(args);
  for (const [name, list] of given) {
    values.set(name, list);
    fromEnv.delete(name);
  }
  const warnings = new Map<string, ConfigWarning>();
  const warn = (flag: string, message: string) => {
    if (!warnings.has(flag)) warnings.set(flag, { flag: `--${flag}`, message });
  };
  applyTritonFlags(triton, values, warn);
  // Errors name what the user wrote: the flag, or the variable that stood in for it.
  const label = (name: string) => (fromEnv.has(name) ? `${envName(findOption(name))} (--${name})` : `--${name}`);
  const config = deepFreeze(buildConfig(values, terminal, env, label, warn));
  return { kind: 'run', config, warnings: [...warnings.values()] };
}

function readArgv(argv: readonly string[]): { values: RawValues; triton: TritonUse[] } {
  const values: RawValues = new Map();
  const triton: TritonUse[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('--')) throw new ConfigError(`unexpected argument '${token}'; flags start with --`);
    const eq = token.indexOf('=');
    const name = token.slice(2, eq < 0 ? undefined : eq);
    const option = OPTIONS.find((o) => o.name === name || o.aliases?.includes(name));
    const tritonFlag = option === undefined ? TRITON_FLAGS.get(name) : undefined;
    if (option === undefined && tritonFlag === undefined) throw new ConfigError(`unknown flag --${name}; run with --help for the list`);
    const standsAlone = (option?.kind ?? tritonFlag?.kind) === 'bool';
    let value: string;
    const next = argv[i + 1];
    if (eq >= 0) value = token.slice(eq + 1);
    else if (next !== undefined && !next.startsWith('--')) value = argv[++i]!;
    else if (standsAlone) value = 'true';
    else throw new ConfigError(`--${name} needs a value`);
    if (tritonFlag !== undefined) {
      if (tritonFlag.kind === 'bool' && tritonBool(value) === undefined) throw new ConfigError(`invalid value '${value}' for --${name}: expected true or false`);
      triton.push({ flag: tritonFlag, value });
      continue;
    }
    const list = option!.kind === 'list' ? [...(values.get(option!.name) ?? []), value] : [value];
    values.set(option!.name, list);
  }
  return { values, triton };
}

/** Decides each Triton-only flag: silently accepted, a warning, a rewrite onto a Nereid option, or a refusal. */
function applyTritonFlags(uses: readonly TritonUse[], values: RawValues, warn: (flag: string, message: string) => void): void {
  for (const { flag, value } of uses) {
    const outcome = flag.decide(value, `--${flag.name}`);
    if (outcome.kind === 'refuse') throw new ConfigError(outcome.message);
    if (outcome.kind === 'warn') warn(flag.name, outcome.message);
    if (outcome.kind === 'rewrite') {
      const option = findOption(outcome.option);
      values.set(option.name, option.kind === 'list' ? [...(values.get(option.name) ?? []), outcome.value] : [outcome.value]);
      warn(flag.name, outcome.message);
    }
  }
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

function buildConfig(
  values: RawValues,
  terminal: boolean,
  env: NodeJS.ProcessEnv,
  label: (name: string) => string,
  warn: (flag: string, message: string) => void,
): ServerConfig {
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
    // Triton reads its keywords (none, poll, explicit, ...) in any case.
    const match = allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
    if (match === undefined) {
      throw new ConfigError(`invalid value '${raw}' for ${label(name)}: expected one of ${allowed.join(', ')}`);
    }
    return match;
  };
  const read: ValueReaders = {
    list: (name) => values.get(name) ?? [],
    given: (name) => values.get(name)?.at(-1),
    str,
    int,
    bool,
    oneOf,
    label,
    warn,
  };

  const repositories = values.get('model-repository') ?? [];
  if (repositories.length === 0) throw new ConfigError('--model-repository is required (or NEREID_MODEL_REPOSITORY)');
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
    grpc: readGrpcConfig(read),
    http: readHttpConfig(read),
    modelControl: modelControl(values, int, oneOf, label),
    sharedMemory: { allowClient: bool('allow-client-shm', false) },
    exitOnError: bool('exit-on-error', true),
    strictReadiness: bool('strict-readiness', true),
    autoCompleteConfig: !bool('disable-auto-complete-config', false),
    defaultMaxBatchSize: backendSetting(values.get('backend-config') ?? [], label('backend-config'), warn),
    exitTimeoutSecs: int('exit-timeout-secs', 30, 0, 86_400),
    limits: readLimitsConfig(int),
    trace,
    metrics: readMetricsConfig(read),
    cache: readCacheConfig(values.get('cache-config') ?? [], label('cache-config')),
    profileDir: path.resolve(str('profile-dir', path.join(tmpdir(), 'nereid-profiles'))),
    log: readLogConfig(read, terminal),
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

/**
 * Triton's `--backend-config [<backend>,]<setting>=<value>`. default-max-batch-size (for
 * onnxruntime, or global) is honoured; any other well-formed setting changes nothing here and
 * gets a warning, so command lines written for Triton's other backends still start.
 */
function backendSetting(entries: readonly string[], where: string, warn: (flag: string, message: string) => void): number {
  let maxBatch = 4;
  for (const entry of entries) {
    const match = /^(?:([^,=]+),)?([^,=]+)=(.+)$/.exec(entry);
    if (match === null) {
      throw new ConfigError(`invalid value '${entry}' for ${where}: expected [<backend>,]<setting>=<value>, e.g. onnxruntime,default-max-batch-size=8`);
    }
    const [, backend, setting, value] = match;
    if ((backend === undefined || backend === 'onnxruntime') && setting === 'default-max-batch-size') {
      if (!/^\d+$/.test(value!)) throw new ConfigError(`invalid value '${entry}' for ${where}: default-max-batch-size must be a non-negative integer`);
      maxBatch = Number(value);
    } else {
      warn('backend-config', `${where} ${entry} changes nothing here: Nereid runs ONNX Runtime and reads only default-max-batch-size`);
    }
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
