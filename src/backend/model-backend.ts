import type { BackendSpec, BufferTensor, SessionSettings } from '../core/execution.js';
import type { Variant } from '../core/precision.js';
import { IdentityBackend } from './identity-backend.js';
import { OrtSession } from './ort-session.js';
import { VariantSessions } from './variant-sessions.js';

/**
 * What a model instance's worker runs. Worker thread only: `run` may block the thread.
 * Inputs are borrowed for the call; outputs are owned by the caller.
 */
export interface ModelBackend {
  run(inputs: readonly BufferTensor[], outputNames: readonly string[], variant: Variant): Promise<BackendRun>;
  release(): Promise<void>;
}

/** A finished run: host-side outputs, and when the model itself finished. */
export interface BackendRun {
  readonly outputs: BufferTensor[];
  /**
   * ms since the epoch when session.run returned; later work (downloading outputs that
   * stayed on the GPU, converting them) belongs to the d2h phase.
   */
  readonly computeEnd: number;
}

/** Creates the backend a model version asks for. */
export async function createBackend(spec: BackendSpec, settings: SessionSettings): Promise<ModelBackend> {
  if (spec.kind === 'identity') return new IdentityBackend(spec.outputToInput);
  const variants = Object.entries(spec.variants ?? {}) as [Variant, string][];
  if (variants.length === 0) return OrtSession.create(spec.modelPath, settings);
  return VariantSessions.create([['fp32', spec.modelPath], ...variants], settings);
}
