import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import { FILE_PREFIX, type LoadOverrides } from '../../repository/load-overrides.js';

/** A load parameter as either transport decoded it (gRPC's typed params; HTTP's JSON strings, base64 for files). */
export type LoadParameter = { readonly kind: 'string'; readonly value: string } | { readonly kind: 'bytes'; readonly value: Uint8Array } | { readonly kind: 'other' };

/** Triton refuses a repository name on every repository request. */
export function noRepositoryName(name: string): void {
  if (name !== '') throw new InferError('UNSUPPORTED', "'repository_name' specification is not supported");
}

/** `config` (a string) and `file:<path>` (bytes); anything else is refused, as in Triton. */
export function loadOverrides(parameters: Iterable<readonly [string, LoadParameter]>): LoadOverrides {
  let config: string | undefined;
  const files = new Map<string, Uint8Array>();
  for (const [key, parameter] of parameters) {
    if (key === 'config') {
      if (parameter.kind !== 'string') throw new InferError('LOAD_PARAMETER_INVALID', `invalid value type for load parameter ${quote(key)}, expected string_param.`);
      config = parameter.value;
    } else if (key.startsWith(FILE_PREFIX)) {
      if (parameter.kind !== 'bytes') throw new InferError('LOAD_PARAMETER_INVALID', `invalid value type for load parameter ${quote(key)}, expected bytes_param.`);
      files.set(key, parameter.value);
    } else {
      throw new InferError('LOAD_PARAMETER_INVALID', `unrecognized load parameter ${quote(key)}.`);
    }
  }
  return config === undefined ? { files } : { config, files };
}

/**
 * Checks `unload_dependents` (absent, or a bool). Models here have no dependents (no
 * ensembles), so its value changes nothing.
 */
export function checkUnloadDependents(kind: 'bool' | 'other' | undefined): void {
  if (kind === 'other') throw new InferError('LOAD_PARAMETER_INVALID', "invalid value type for 'unload_dependents' parameter, expected bool_param.");
}
