import type { BufferTensor, SessionSettings } from '../core/execution.js';
import { InferError } from '../core/errors.js';
import type { Variant } from '../core/precision.js';
import type { BackendRun, ModelBackend } from './model-backend.js';
import { OrtSession } from './ort-session.js';

/**
 * One ONNX Runtime session per precision variant of a model, in one instance: every
 * instance can run every variant, so no variant waits for "its" instances while others
 * sit idle. Each session costs its own weights and arena (see the README). Worker thread only.
 */
export class VariantSessions implements ModelBackend {
  private constructor(private readonly sessions: ReadonlyMap<Variant, OrtSession>) {}

  /** Loads the variants one after another; on a failure releases those already loaded. */
  static async create(files: readonly (readonly [Variant, string])[], settings: SessionSettings): Promise<VariantSessions> {
    const sessions = new Map<Variant, OrtSession>();
    try {
      for (const [variant, file] of files) {
        try {
          sessions.set(variant, await OrtSession.create(file, settings));
        } catch (err) {
          throw new Error(`the ${variant} variant (${file}) did not load: ${(err as Error).message}`);
        }
      }
    } catch (err) {
      for (const session of sessions.values()) await session.release();
      throw err;
    }
    return new VariantSessions(sessions);
  }

  run(inputs: readonly BufferTensor[], outputNames: readonly string[], variant: Variant): Promise<BackendRun> {
    const session = this.sessions.get(variant);
    if (session === undefined) return Promise.reject(new InferError('INTERNAL', `this instance holds no ${variant} session`));
    return session.run(inputs, outputNames);
  }

  async release(): Promise<void> {
    for (const session of this.sessions.values()) await session.release();
  }
}
