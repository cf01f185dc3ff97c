import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { ModelRegistry, ReadyModel } from '../../repository/model-registry.js';

/**
 * The model versions a statistics request names, with Triton's rules and errors for
 * either transport: an empty name means every ready version of every model; a name alone,
 * every ready version of that model; an unknown or unready model or version is
 * STATISTICS_MODEL_UNAVAILABLE (INVALID_ARGUMENT, as in Triton).
 */
export function selectForStatistics(registry: ModelRegistry, name: string, version: string): ReadyModel[] {
  const ready = registry.readyModels();
  if (name === '') return ready;
  const versions = ready.filter((m) => m.info.name === name);
  if (versions.length === 0) throw new InferError('STATISTICS_MODEL_UNAVAILABLE', `requested model ${quote(name)} is not available`);
  if (version === '') return versions;
  const chosen = versions.filter((m) => String(m.info.version) === version);
  if (chosen.length === 0) throw new InferError('STATISTICS_MODEL_UNAVAILABLE', `requested model version is not available for model ${quote(name)}`);
  return chosen;
}
