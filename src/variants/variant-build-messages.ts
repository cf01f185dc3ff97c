import type { VariantBuildResult } from '../core/precision.js';

/** Messages from the variant-build worker to the main thread. */
export type FromVariantBuild =
  | { readonly type: 'log'; readonly level: 'info' | 'warn'; readonly message: string }
  | { readonly type: 'built'; readonly result: VariantBuildResult }
  | { readonly type: 'build-failed'; readonly message: string };
