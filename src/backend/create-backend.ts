import type { BackendSpec, SessionSettings } from '../core/execution.js';
import type { Variant } from '../core/precision.js';
import { IdentityBackend } from './identity-backend.js';
import type { ModelBackend } from './model-backend.js';
import { OrtSession } from './ort-session.js';
import { RepeatBackend } from './repeat-backend.js';
import { VariantSessions } from './variant-sessions.js';

/** Creates the backend a model version asks for. Worker thread only. */
export async function createBackend(spec: BackendSpec, settings: SessionSettings): Promise<ModelBackend> {
  if (spec.kind === 'identity') return new IdentityBackend(spec.outputToInput);
  if (spec.kind === 'repeat') return new RepeatBackend();
  const variants = Object.entries(spec.variants ?? {}) as [Variant, string][];
  if (variants.length === 0) return OrtSession.create(spec.modelPath, settings);
  return VariantSessions.create([['fp32', spec.modelPath], ...variants], settings);
}
