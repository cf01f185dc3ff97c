import type { ModelVersionPolicy } from '../generated/model_config.js';

/**
 * The versions a policy serves among those on disk: `latest` keeps the N highest,
 * `all` keeps every one, `specific` keeps the listed ones that exist. Sorted ascending.
 */
export function selectVersions(policy: ModelVersionPolicy | undefined, available: readonly number[]): number[] {
  const sorted = [...available].sort((a, b) => a - b);
  const choice = policy?.policyChoice;
  if (choice === undefined || choice.$case === 'latest') {
    const n = choice?.value.numVersions ?? 1;
    return sorted.slice(Math.max(0, sorted.length - n));
  }
  if (choice.$case === 'all') return sorted;
  const wanted = new Set(choice.value.versions.map(Number));
  return sorted.filter((v) => wanted.has(v));
}
