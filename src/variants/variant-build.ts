import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { type AccuracyFigures, formatFigure, type Precision, type PrecisionReport, type Variant, type VariantBuildJob, type VariantBuildResult } from '../core/precision.js';
import { maxAbsError, relativeL2Error, top1Agreement } from '../onnx/accuracy.js';
import { type CalibrationFeeds, type CalibrationRunner, collectActivationRanges } from '../onnx/calibration.js';
import { convertToFloat16 } from '../onnx/float16.js';
import { graphProducers } from '../onnx/graph-edit.js';
import type { ModelProto } from '../onnx/graph-builder.js';
import { fromFloat16Bits, toFloat16Bits } from '../onnx/half-precision.js';
import { mainGraph, modelHash, readModel, writeModel } from '../onnx/onnx-model.js';
import { quantizeDynamic } from '../onnx/quantize-dynamic.js';
import { quantizeStaticQdq } from '../onnx/quantize-static.js';
import { loadSamples } from './sample-inputs.js';
import { type CachedFigures, readCacheEntry, writeCacheEntry } from './variant-cache.js';

/** Bump when the transforms change what they produce, so old cache entries are not reused. */
const BUILD_FORMAT = 1;

type Log = (level: 'info' | 'warn', message: string) => void;

interface Output {
  readonly name: string;
  /** Arg-max over the last axis is meaningful: top-1 agreement is measured. */
  readonly classifier: boolean;
}

/** The outputs of one run, as float32, by output name, with their dims. */
type RunOutputs = Map<string, { data: Float32Array; dims: readonly number[] }>;

/**
 * Builds the precision variants of one model version, measures each against fp32 on the
 * validation samples, and caches files and figures under a hash of the model bytes and
 * every setting that shapes them. Worker thread only: it runs ONNX Runtime synchronously.
 * A precision that cannot be built is reported with the reason, never thrown.
 */
export async function buildVariants(job: VariantBuildJob, log: Log): Promise<VariantBuildResult> {
  const bytes = await readFile(job.modelPath);
  const hash = modelHash(bytes, await hashSettings(job));
  const cached = await readCacheEntry(job.cacheDir, hash);
  if (cached !== undefined) return result(job, cached.entry, cached.figures, true);

  const model = readModel(bytes);
  const inputNames = (mainGraph(model).input ?? []).map((i) => i.name ?? '').filter((n) => !(mainGraph(model).initializer ?? []).some((t) => t.name === n));
  const outputs = describeOutputs(model, job.classifierOutputs);
  const validation = await loadSamples(job.validation, job.generated, inputNames);
  const runner = new BuildSessions(job.threads);
  try {
    const fp32 = await runner.open(bytes);
    const reference = await runner.run(fp32, validation, 'fp32');
    const files = new Map<Variant, Uint8Array>();
    const figures: Partial<Record<Precision, CachedFigures>> = {};
    for (const precision of job.precisions) {
      const started = performance.now();
      try {
        const built = await buildPrecision(precision, model, job, inputNames, runner);
        for (const [variant, file] of built) files.set(variant, file);
        const primary = built.get(precision)!;
        const session = await runner.open(primary);
        let accuracy = compare(reference, await runner.run(session, validation, 'fp32'), outputs, validation.length);
        const speedup = await runner.speedup(fp32, session, validation[0]!);
        await runner.close(session);
        if (built.has('fp16-io')) {
          // The fp16-io form also rounds inputs and outputs to fp16; its figures are the worse of the two.
          const io = await runner.open(built.get('fp16-io')!);
          accuracy = worst(accuracy, compare(reference, await runner.run(io, validation, 'fp16'), outputs, validation.length));
          await runner.close(io);
        }
        figures[precision] = { accuracy, speedup, fileBytes: primary.byteLength };
        log('info', `built ${precision} in ${Math.round(performance.now() - started)} ms`);
      } catch (err) {
        figures[precision] = { error: err instanceof Error ? err.message : String(err) };
        log('warn', `could not build ${precision}: ${figures[precision].error}`);
      }
    }
    const entry = await writeCacheEntry(job.cacheDir, hash, files, figures, log);
    return result(job, entry, figures, false);
  } finally {
    await runner.release();
  }
}

async function buildPrecision(precision: Precision, model: ModelProto, job: VariantBuildJob, inputNames: readonly string[], runner: BuildSessions): Promise<Map<Variant, Uint8Array>> {
  if (precision === 'fp16') {
    const variants = new Map<Variant, Uint8Array>([['fp16', writeModel(convertToFloat16(model, { keepIoTypes: true }))]]);
    if (job.fp16Io) variants.set('fp16-io', writeModel(convertToFloat16(model, { keepIoTypes: false })));
    return variants;
  }
  if (precision === 'int8') {
    if (job.int8Mode === 'dynamic') return new Map([['int8', writeModel(quantizeDynamic(model, { perChannel: true }))]]);
    const calibration = await loadSamples(job.calibration, job.generated, inputNames);
    const ranges = await collectActivationRanges(model, calibration, runner.calibrationRunner(), { method: job.calibrationMethod });
    return new Map([['int8', writeModel(quantizeStaticQdq(model, ranges, { activationType: job.int8Activations, excludeNodes: job.int8ExcludeNodes }))]]);
  }
  throw new Error(`no build for precision '${precision}'`);
}

/** The served files and reports, deciding service from the figures and the job's tolerance. */
function result(job: VariantBuildJob, entry: string, figures: Partial<Record<Precision, CachedFigures>>, cached: boolean): VariantBuildResult {
  const files: Partial<Record<Variant, string>> = {};
  const reports: PrecisionReport[] = job.precisions.map((precision) => {
    const f = figures[precision];
    const int8Mode = precision === 'int8' ? job.int8Mode : undefined;
    if (f === undefined || f.accuracy === undefined) {
      return { precision, served: false, reason: `the ${precision} variant could not be built: ${f?.error ?? 'no figures'}`, int8Mode };
    }
    const reason = toleranceFailure(precision, f.accuracy, job);
    if (reason === '') {
      files[precision] = path.join(entry, `${precision}.onnx`);
      if (precision === 'fp16' && job.fp16Io) files['fp16-io'] = path.join(entry, 'fp16-io.onnx');
    }
    return { precision, served: reason === '', reason, accuracy: f.accuracy, speedup: f.speedup, int8Mode, fileBytes: f.fileBytes };
  });
  return { files, reports, cacheEntry: entry, cached };
}

function toleranceFailure(precision: Precision, a: AccuracyFigures, job: VariantBuildJob): string {
  const failures: string[] = [];
  if (!(a.relativeL2Error <= job.maxRelativeError)) {
    failures.push(`relative L2 error ${formatFigure(a.relativeL2Error)} exceeds max_relative_error ${job.maxRelativeError}`);
  }
  if (a.top1Agreement !== undefined && !(a.top1Agreement >= job.minTop1Agreement)) {
    failures.push(`top-1 agreement ${formatFigure(a.top1Agreement)} is below min_top1_agreement ${job.minTop1Agreement}`);
  }
  if (failures.length === 0) return '';
  return `the ${precision} variant failed its accuracy check against fp32 on ${a.batches} validation batches: ${failures.join('; ')} (max abs error ${formatFigure(a.maxAbsError)})`;
}

function describeOutputs(model: ModelProto, classifierOutputs: readonly string[] | undefined): Output[] {
  const g = mainGraph(model);
  const producers = graphProducers(g);
  return (g.output ?? []).map((o) => {
    const name = o.name ?? '';
    const op = producers.get(name)?.opType ?? '';
    return { name, classifier: classifierOutputs !== undefined ? classifierOutputs.includes(name) : op === 'Softmax' || op === 'LogSoftmax' };
  });
}

/** Accuracy of `candidate` against `reference` over every float output; the worst figure of each kind. */
function compare(reference: readonly RunOutputs[], candidate: readonly RunOutputs[], outputs: readonly Output[], batches: number): AccuracyFigures {
  let maxAbs = 0;
  let relL2 = 0;
  let top1: number | undefined;
  for (const output of outputs) {
    const ref = concat(reference.map((r) => r.get(output.name)));
    const got = concat(candidate.map((r) => r.get(output.name)));
    if (ref === undefined || got === undefined) continue;
    maxAbs = Math.max(maxAbs, maxAbsError(ref, got));
    relL2 = Math.max(relL2, relativeL2Error(ref, got));
    const classes = reference[0]!.get(output.name)!.dims.at(-1) ?? 1;
    if (output.classifier && classes > 1) top1 = Math.min(top1 ?? 1, top1Agreement(ref, got, classes));
  }
  return { maxAbsError: maxAbs, relativeL2Error: relL2, ...(top1 !== undefined ? { top1Agreement: top1 } : {}), batches };
}

function worst(a: AccuracyFigures, b: AccuracyFigures): AccuracyFigures {
  const top1 = a.top1Agreement === undefined || b.top1Agreement === undefined ? undefined : Math.min(a.top1Agreement, b.top1Agreement);
  return {
    maxAbsError: Math.max(a.maxAbsError, b.maxAbsError),
    relativeL2Error: Math.max(a.relativeL2Error, b.relativeL2Error),
    ...(top1 !== undefined ? { top1Agreement: top1 } : {}),
    batches: a.batches,
  };
}

function concat(parts: readonly ({ data: Float32Array } | undefined)[]): Float32Array | undefined {
  if (parts.some((p) => p === undefined)) return undefined;
  const out = new Float32Array(parts.reduce((n, p) => n + p!.data.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p!.data, offset);
    offset += p!.data.length;
  }
  return out;
}

/** What decides the files: the model bytes (hashed by the caller) and these settings. */
async function hashSettings(job: VariantBuildJob): Promise<unknown> {
  const source = async (s: VariantBuildJob['calibration']) => (s.kind === 'generated' ? s : { kind: s.kind, digest: await folderDigest(s.path) });
  return {
    format: BUILD_FORMAT,
    ort: ort.env.versions.node,
    precisions: job.precisions,
    fp16Io: job.fp16Io,
    int8: job.precisions.includes('int8') ? { mode: job.int8Mode, activations: job.int8Activations, method: job.calibrationMethod, exclude: job.int8ExcludeNodes } : undefined,
    calibration: job.precisions.includes('int8') && job.int8Mode === 'static' ? await source(job.calibration) : undefined,
    validation: await source(job.validation),
    generated: job.generated,
    classifierOutputs: job.classifierOutputs,
  };
}

/** sha256 over the names and contents of the .npy files of a sample folder. */
async function folderDigest(dir: string): Promise<string> {
  const hash = createHash('sha256');
  const visit = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return; // loadSamples reports an unreadable folder with its reason
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await visit(p);
      else if (e.name.endsWith('.npy') && (await stat(p)).isFile()) hash.update(path.relative(dir, p)).update('\0').update(await readFile(p));
    }
  };
  await visit(dir);
  return hash.digest('hex');
}

/** Timed alternations of fp32 and a variant on one batch, after one warm-up run each. */
const SPEED_ROUNDS = 7;

/** ORT sessions for the build, on CPU; each is released by `close` or, at the latest, `release`. */
class BuildSessions {
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
