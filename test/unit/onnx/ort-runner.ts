/**
 * onnxruntime-node glue for the precision tests (src/onnx stays free of ORT):
 * running a model's bytes on float inputs, and a calibration runner that
 * keeps one session per model.
 */
import * as ort from 'onnxruntime-node';
import type { CalibrationFeeds, CalibrationRunner } from '../../../src/onnx/calibration.js';

/** An input: fp32 data, fp16 bit patterns, or booleans as bytes. */
export interface Feed {
  readonly data: Float32Array | Uint16Array | Uint8Array;
  readonly dims: readonly number[];
}

/** Creates a CPU session on one intra-op thread. */
export function createSession(bytes: Uint8Array, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
}

function toOrt(feed: Feed): ort.Tensor {
  if (feed.data instanceof Uint16Array) return new ort.Tensor('float16', feed.data, [...feed.dims]);
  if (feed.data instanceof Uint8Array) return new ort.Tensor('bool', feed.data, [...feed.dims]);
  return new ort.Tensor('float32', feed.data, [...feed.dims]);
}

/** Runs `session` and returns output `name`'s data. */
export async function runSession(session: ort.InferenceSession, feeds: Readonly<Record<string, Feed>>, name: string): Promise<Float32Array | Uint16Array> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
  const out = await session.run(ortFeeds, [name]);
  return out[name]!.data as Float32Array | Uint16Array;
}

/** Loads `bytes`, runs it once on each feed set, and returns output `name` per run (fp32 outputs only). */
export async function runModel(bytes: Uint8Array, feeds: readonly Readonly<Record<string, Feed>>[], name: string): Promise<Float32Array[]> {
  const session = await createSession(bytes);
  try {
    const results: Float32Array[] = [];
    for (const f of feeds) results.push((await runSession(session, f, name)) as Float32Array);
    return results;
  } finally {
    await session.release();
  }
}

/** A calibration runner over ORT on two threads (one session per model bytes), and a release for its sessions. */
export function ortCalibrationRunner(): { run: CalibrationRunner; release: () => Promise<void> } {
  const sessions = new Map<Uint8Array, ort.InferenceSession>();
  const run = async (bytes: Uint8Array, feeds: CalibrationFeeds): Promise<Record<string, Float32Array>> => {
    let session = sessions.get(bytes);
    if (session === undefined) {
      session = await createSession(bytes, 2);
      sessions.set(bytes, session);
    }
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = new ort.Tensor('float32', v.data, [...v.dims]);
    const out = await session.run(ortFeeds);
    const result: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) result[k] = v.data as Float32Array;
    return result;
  };
  const release = async (): Promise<void> => {
    for (const s of sessions.values()) await s.release();
    sessions.clear();
  };
  return { run, release };
}

/** Concatenates equal-shaped run outputs into one array (for metrics over all runs). */
export function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
