import * as ort from 'onnxruntime-node';
import type { CalibrationFeeds, CalibrationRunner } from '../onnx/calibration.js';
import { fromFloat16Bits, toFloat16Bits } from '../onnx/half-precision.js';

/** The outputs of one run, as float32, by output name, with their dims. */
export type RunOutputs = Map<string, { data: Float32Array; dims: readonly number[] }>;

/** Timed alternations of fp32 and a variant on one batch, after one warm-up run each. */
const SPEED_ROUNDS = 11;

/**
 * ONNX Runtime sessions for a variant build, on CPU; each is released by `close` or, at the
 * latest, `release`. Worker thread only: sessions run synchronously.
 */
export class BuildSessions {
  private readonly sessions = new Set<ort.InferenceSession>();

  constructor(private readonly threads: number) {}

  async open(bytes: Uint8Array): Promise<ort.InferenceSession> {
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: this.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    this.sessions.add(session);
    return session;
  }

  async close(session: ort.InferenceSession): Promise<void> {
    this.sessions.delete(session);
    await session.release();
  }

  /** Runs every batch (as fp32 or, for the fp16-io form, fp16 inputs); outputs as float32. */
  async run(session: ort.InferenceSession, batches: readonly CalibrationFeeds[], inputs: 'fp32' | 'fp16'): Promise<RunOutputs[]> {
    const outputs: RunOutputs[] = [];
    for (const feeds of batches) {
      const out = await session.run(toOrtFeeds(feeds, inputs));
      const run: RunOutputs = new Map();
      for (const [name, tensor] of Object.entries(out)) {
        if (tensor.type === 'float32') run.set(name, { data: tensor.data as Float32Array, dims: tensor.dims });
        else if (tensor.type === 'float16') run.set(name, { data: fromFloat16Bits(tensor.data as Uint16Array), dims: tensor.dims });
      }
      outputs.push(run);
    }
    return outputs;
  }

  /**
   * How much faster `candidate` runs `feeds` than `reference` (> 1 = faster): the ratio of
   * median run times, the two alternating so that machine noise hits both alike.
   */
  async speedup(reference: ort.InferenceSession, candidate: ort.InferenceSession, feeds: CalibrationFeeds): Promise<number> {
    const ortFeeds = toOrtFeeds(feeds, 'fp32');
    const times: [number[], number[]] = [[], []];
    for (let round = 0; round <= SPEED_ROUNDS; round++) {
      for (const [i, session] of [reference, candidate].entries()) {
        const start = performance.now();
        await session.run(ortFeeds);
        if (round > 0) times[i]!.push(performance.now() - start);
      }
    }
    return median(times[0]) / median(times[1]);
  }

  /** Calibration runs of the augmented model, one session per model bytes. */
  calibrationRunner(): CalibrationRunner {
    const byModel = new Map<Uint8Array, Promise<ort.InferenceSession>>();
    return async (bytes, feeds) => {
      let session = byModel.get(bytes);
      if (session === undefined) {
        session = this.open(bytes);
        byModel.set(bytes, session);
      }
      const out = await (await session).run(toOrtFeeds(feeds, 'fp32'));
      const results: Record<string, Float32Array> = {};
      for (const [name, tensor] of Object.entries(out)) results[name] = tensor.data as Float32Array;
      return results;
    };
  }

  async release(): Promise<void> {
    for (const session of this.sessions) await session.release();
    this.sessions.clear();
  }
}

function toOrtFeeds(feeds: CalibrationFeeds, inputs: 'fp32' | 'fp16'): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) {
    out[name] = inputs === 'fp16' ? new ort.Tensor('float16', toFloat16Bits(t.data), [...t.dims]) : new ort.Tensor('float32', t.data, [...t.dims]);
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
