import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describeCpu } from '../core/cpu-features.js';
import type { Int8Format } from '../core/int8-format.js';
import { formatFigure, type Int8FormatReport, type Precision, type PrecisionReport, type Variant, type VariantBuildJob, type VariantBuildResult } from '../core/precision.js';
import { type ActivationRange, collectActivationRanges } from '../onnx/calibration.js';
import { convertToFloat16 } from '../onnx/float16.js';
import type { ModelProto } from '../onnx/graph-builder.js';
import { mainGraph, modelHash, readModel, writeModel } from '../onnx/onnx-model.js';
import { quantizeDynamic } from '../onnx/quantize-dynamic.js';
import { quantizeStaticQdq } from '../onnx/quantize-static.js';
import { BuildSessions } from './build-sessions.js';
import type { BuildHost } from './build-host.js';
import { chooseCandidate, type Int8FormatPlan, planInt8Formats, SPEED_TIE } from './int8-format-plan.js';
import { loadSamples } from './sample-inputs.js';
import { compareRuns, describeOutputs, toleranceFailure, worstOf } from './variant-accuracy.js';
import { type CachedFigures, readCacheEntry, writeCacheEntry } from './variant-cache.js';

/**
 * Bump when the transforms change what they produce, so old cache entries are not reused.
 * 2: int8 formats, one file per format measured, and the CPU in the key.
 */
const BUILD_FORMAT = 2;

type Log = (level: 'info' | 'warn', message: string) => void;

/**
 * Builds the precision variants of one model version, measures each against fp32 on the
 * validation samples, and caches files and figures under a hash of the model bytes and
 * every setting that shapes them. For int8 the key also holds the CPU's int8 features and
 * the U8S8 check of `host`: a variant measured on one CPU is never reused on a CPU whose
 * kernels compute it differently. Worker thread only: it runs ONNX Runtime synchronously.
 * A precision that cannot be built is reported with the reason, never thrown.
 */
export async function buildVariants(job: VariantBuildJob, log: Log, host: BuildHost): Promise<VariantBuildResult> {
  const plan = job.precisions.includes('int8') ? planInt8Formats(job.int8Format, host) : undefined;
  if (plan?.warning !== undefined) log('warn', plan.warning);
  const bytes = await readFile(job.modelPath);
  const hash = modelHash(bytes, await hashSettings(job, host));
  const cached = await readCacheEntry(job.cacheDir, hash);
  if (cached !== undefined) return result(job, cached.entry, cached.figures, true, host, plan);

  const model = readModel(bytes);
  const inputNames = (mainGraph(model).input ?? []).map((i) => i.name ?? '').filter((n) => !(mainGraph(model).initializer ?? []).some((t) => t.name === n));
  const outputs = describeOutputs(model, job.classifierOutputs);
  const validation = await loadSamples(job.validation, job.generated, inputNames);
  const runner = new BuildSessions(job.threads);
  try {
    const fp32 = await runner.open(bytes);
    const reference = await runner.run(fp32, validation, 'fp32');
    const forms = new Forms(model, job, inputNames, runner);
    const files = new Map<string, Uint8Array>();
    const figures: Partial<Record<Precision, CachedFigures[]>> = {};
    for (const precision of job.precisions) {
      const measured: CachedFigures[] = (figures[precision] = []);
      for (const int8Format of precision === 'int8' ? plan!.candidates : [undefined]) {
        const label = int8Format === undefined ? precision : `${precision} (${int8Format})`;
        const tag = int8Format === undefined ? {} : { int8Format };
        const started = performance.now();
        try {
          const built = await forms.build(precision, int8Format);
          for (const [stem, file] of built) files.set(stem, file);
          const primary = built.get(stemOf(precision, int8Format))!;
          const session = await runner.open(primary);
          let accuracy = compareRuns(reference, await runner.run(session, validation, 'fp32'), outputs, validation.length);
          const speedup = await runner.speedup(fp32, session, validation[0]!);
          await runner.close(session);
          if (built.has('fp16-io')) {
            // The fp16-io form also rounds inputs and outputs to fp16; its figures are the worse of the two.
            const io = await runner.open(built.get('fp16-io')!);
            accuracy = worstOf(accuracy, compareRuns(reference, await runner.run(io, validation, 'fp16'), outputs, validation.length));
            await runner.close(io);
          }
          measured.push({ accuracy, speedup, fileBytes: primary.byteLength, ...tag });
          log('info', `built ${label} in ${Math.round(performance.now() - started)} ms: relative L2 error ${formatFigure(accuracy.relativeL2Error)}, ${formatFigure(speedup)}x fp32`);
        } catch (err) {
          measured.push({ error: err instanceof Error ? err.message : String(err), ...tag });
          log('warn', `could not build ${label}: ${measured.at(-1)!.error}`);
        }
      }
    }
    const entry = await writeCacheEntry(job.cacheDir, hash, files, figures, hostLine(host), log);
    return result(job, entry, figures, false, host, plan);
  } finally {
    await runner.release();
  }
}

/** The cache file stem of a precision's model file (int8: one per format). */
function stemOf(precision: Precision, int8Format: Int8Format | undefined): string {
  return precision === 'int8' ? `int8-${int8Format}` : precision;
}

/** Builds the model files of each precision form; static int8 calibrates once for all its formats. */
class Forms {
  private ranges: Promise<ReadonlyMap<string, ActivationRange>> | undefined;

  constructor(
    private readonly model: ModelProto,
    private readonly job: VariantBuildJob,
    private readonly inputNames: readonly string[],
    private readonly runner: BuildSessions,
  ) {}

  /** The files of one form, by cache stem: the primary first, then fp16's fp16-io form when asked for. */
  async build(precision: Precision, int8Format: Int8Format | undefined): Promise<Map<string, Uint8Array>> {
    const { model, job } = this;
    if (precision === 'fp16') {
      const files = new Map<string, Uint8Array>([['fp16', writeModel(convertToFloat16(model, { keepIoTypes: true }))]]);
      if (job.fp16Io) files.set('fp16-io', writeModel(convertToFloat16(model, { keepIoTypes: false })));
      return files;
    }
    if (precision === 'int8') {
      const stem = stemOf(precision, int8Format);
      if (job.int8Mode === 'dynamic') return new Map([[stem, writeModel(quantizeDynamic(model, { perChannel: true, format: int8Format }))]]);
      this.ranges ??= this.calibrate();
      const ranges = await this.ranges;
      // u8u8 needs uint8 activations, whatever int8_activations says (validation refuses the pair when both are set).
      const activationType = int8Format === 'u8u8' ? 'uint8' : job.int8Activations;
      return new Map([[stem, writeModel(quantizeStaticQdq(model, ranges, { activationType, excludeNodes: job.int8ExcludeNodes, format: int8Format }))]]);
    }
    throw new Error(`no build for precision '${precision}'`);
  }

  private async calibrate(): Promise<ReadonlyMap<string, ActivationRange>> {
    const calibration = await loadSamples(this.job.calibration, this.job.generated, this.inputNames);
    return collectActivationRanges(this.model, calibration, this.runner.calibrationRunner(), { method: this.job.calibrationMethod });
  }
}

/** The served files and reports, choosing each precision's form and deciding service from the figures and the job's tolerance. */
function result(
  job: VariantBuildJob,
  entry: string,
  figures: Partial<Record<Precision, readonly CachedFigures[]>>,
  cached: boolean,
  host: BuildHost,
  plan: Int8FormatPlan | undefined,
): VariantBuildResult {
  const files: Partial<Record<Variant, string>> = {};
  const reports: PrecisionReport[] = job.precisions.map((precision) => {
    const candidates = figures[precision] ?? [];
    const verdicts = candidates.map((c) => (c.accuracy === undefined ? undefined : toleranceFailure(precision, c.accuracy, job)));
    const measured = candidates.map((c, i) => ({ relativeL2Error: c.accuracy?.relativeL2Error, speedup: c.speedup, passes: verdicts[i] === '' }));
    const chosen = chooseCandidate(measured, precision === 'int8' ? plan!.preferred : 1);
    const f = candidates[chosen];
    const int8Mode = precision === 'int8' ? job.int8Mode : undefined;
    const int8Format = precision === 'int8' && f !== undefined ? int8Report(candidates, chosen, verdicts, host, plan!) : undefined;
    const details = { int8Mode, ...(int8Format !== undefined ? { int8Format } : {}) };
    if (f === undefined || f.accuracy === undefined) {
      return { precision, served: false, reason: `the ${precision} variant could not be built: ${f?.error ?? 'no figures'}`, ...details };
    }
    const reason = verdicts[chosen]!;
    if (reason === '') {
      files[precision] = path.join(entry, `${stemOf(precision, f.int8Format)}.onnx`);
      if (precision === 'fp16' && job.fp16Io) files['fp16-io'] = path.join(entry, 'fp16-io.onnx');
    }
    return { precision, served: reason === '', reason, accuracy: f.accuracy, speedup: f.speedup, fileBytes: f.fileBytes, ...details };
  });
  return { files, reports, cacheEntry: entry, cached };
}

/** How the int8 format was chosen: the plan, and when several were built, which won and by what. */
function int8Report(candidates: readonly CachedFigures[], chosen: number, verdicts: readonly (string | undefined)[], host: BuildHost, plan: Int8FormatPlan): Int8FormatReport {
  const f = candidates[chosen]!;
  const formats = (from: number, to?: number) => candidates.slice(from, to).map((c) => c.int8Format).join(' and ');
  let why = plan.why;
  if (verdicts[chosen] !== '') {
    why += verdicts.some((v) => v !== undefined) ? `: none is within tolerance; ${f.int8Format} has the smallest error` : ': none could be built';
  } else if (chosen >= plan.preferred) {
    why += `: ${formats(0, plan.preferred)} missed the tolerance, the fallback ${f.int8Format} meets it`;
  } else if (plan.preferred > 1) {
    const others = candidates.slice(0, plan.preferred).filter((_, i) => i !== chosen).map((c) => c.int8Format).join(', ');
    why += `: ${f.int8Format} is the fastest within tolerance (or within ${Math.round((SPEED_TIE - 1) * 100)}% of it and more accurate), against ${others}`;
  }
  return {
    format: f.int8Format!,
    why,
    cpu: hostLine(host),
    candidates: candidates.map((c) => ({ format: c.int8Format!, ...(c.accuracy !== undefined ? { accuracy: c.accuracy } : {}), ...(c.speedup !== undefined ? { speedup: c.speedup } : {}), ...(c.error !== undefined ? { error: c.error } : {}) })),
  };
}

/** The CPU line of reports and cache entries: its int8 features, and the U8S8 check when it ran. */
function hostLine(host: BuildHost): string {
  const check = host.u8s8Exact === undefined ? '' : `; ONNX Runtime's U8S8 kernel ${host.u8s8Exact ? 'computes exactly' : 'saturates'}`;
  return `${describeCpu(host.cpu)}${check}`;
}

/** What decides the files: the model bytes (hashed by the caller), these settings and, for int8, the CPU. */
async function hashSettings(job: VariantBuildJob, host: BuildHost): Promise<unknown> {
  const source = async (s: VariantBuildJob['calibration']) => (s.kind === 'generated' ? s : { kind: s.kind, digest: await folderDigest(s.path) });
  const int8 = job.precisions.includes('int8');
  return {
    format: BUILD_FORMAT,
    ort: ort.env.versions.node,
    precisions: job.precisions,
    fp16Io: job.fp16Io,
    int8: int8 ? { mode: job.int8Mode, format: job.int8Format, activations: job.int8Activations, method: job.calibrationMethod, exclude: job.int8ExcludeNodes } : undefined,
    // The int8 kernels ONNX Runtime picks follow these features; the check is what they did.
    cpu: int8 ? { arch: host.cpu.arch, known: host.cpu.known, features: host.cpu.int8, u8s8Exact: host.u8s8Exact } : undefined,
    calibration: int8 && job.int8Mode === 'static' ? await source(job.calibration) : undefined,
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
