import { quote } from '../core/client-text.js';
import { InferError } from '../core/errors.js';

/**
 * Parses a request's model_version the way Triton does (C++ `std::stol` semantics, so a
 * numeric prefix such as "1abc" reads as 1). Returns undefined for '' (latest version).
 */
export function parseVersionString(version: string): number | undefined {
  if (version === '') return undefined;
  const match = /^[\s]*([+-]?\d+)/.exec(version);
  const value = match === null ? undefined : Number(match[1]);
  if (value === undefined || !Number.isSafeInteger(value)) {
    throw new InferError(
      'MODEL_VERSION_INVALID',
      `failed to get model version from specified version string ${quote(version)} (details: stol), version should be an integral value > 0`,
    );
  }
  if (value < 0) {
    throw new InferError(
      'MODEL_VERSION_INVALID',
      `invalid model version specified ${quote(version)} , version should be an integral value > 0`,
    );
  }
  return value;
}
