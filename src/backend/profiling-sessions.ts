import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { nowMs, type BackendSpec, type BufferTensor, type SessionSettings } from '../core/execution.js';
import { InferError } from '../core/errors.js';
import type { Variant } from '../core/precision.js';
import type { OrtProfileEvent, ProfiledSession, ProfileTicket, WorkerProfile } from '../core/profiling.js';
import type { BackendRun } from './model-backend.js';
import { OrtSession } from './ort-session.js';

interface Open {
  readonly variant: Variant;
  readonly session: OrtSession;
  readonly prefix: string;
  readonly startMs: number;
  /** The set-up run, measured around session.run. */
  readonly setupRun: { readonly start: number; readonly end: number };
  readonly readyMs: number;
}

/**
 * The profiling sessions of one instance's worker for the profile in progress. ONNX
 * Runtime switches its profiler on only when a session is created, so a profiled
 * execution runs on a second session of the same model file, created for the profile on
 * its first execution (one per variant) and released when the profile ends; the
 * instance's own sessions are never touched, and nothing exists while no profile runs.
 * A new session runs the execution's inputs once, unrecorded, before the first profiled
 * run, so that its first-run costs (allocations, kernel set-up) stay out of the profile.
 * Worker thread only.
 */
export class ProfilingSessions {
  private profileId: string | undefined;
  private readonly open = new Map<Variant, Open>();
  private runs: WorkerProfile['runs'][number][] = [];

  constructor(
    private readonly spec: BackendSpec,
    private readonly settings: SessionSettings,
  ) {}

  /** Runs one flagged execution under the profile's session for its variant. */
  async run(ticket: ProfileTicket, inputs: readonly BufferTensor[], outputNames: readonly string[], variant: Variant): Promise<BackendRun & { start: number }> {
    if (this.profileId !== ticket.id) {
      await this.releaseAll();
      this.profileId = ticket.id;
    }
    let entry = this.open.get(variant);
    if (entry === undefined) {
      const file = this.modelFile(variant);
      const prefix = `${ticket.filePrefix}-${variant}`;
      const startMs = nowMs();
      const session = await OrtSession.create(file, this.settings, prefix);
      const setupStart = nowMs();
      try {
        await session.run(inputs, outputNames);
      } catch {
        // The profiled run below reports the error the execution should get.
      }
      const readyMs = nowMs();
      entry = { variant, session, prefix, startMs, setupRun: { start: setupStart, end: readyMs }, readyMs };
      this.open.set(variant, entry);
    }
    const start = nowMs();
    const result = await entry.session.run(inputs, outputNames);
    this.runs.push({ variant, computeStart: start, computeEnd: result.computeEnd });
    return { ...result, start };
  }

  /** Ends profile `id`: stops each session's profiler, reads and deletes ORT's files, releases the sessions. */
  async end(id: string, instance: string): Promise<WorkerProfile> {
    if (this.profileId !== id) return { instance, sessions: [], runs: [] };
    const sessions: ProfiledSession[] = [];
    const errors: string[] = [];
    for (const entry of this.open.values()) {
      try {
        entry.session.endProfiling();
        const events = await readProfile(entry.prefix);
        const runs = this.runs.filter((r) => r.variant === entry.variant);
        sessions.push({ variant: entry.variant, startMs: entry.startMs, readyMs: entry.readyMs, ...alignment(entry, events, runs), events });
      } catch (err) {
        errors.push(`${entry.variant}: ${(err as Error).message}`);
      }
    }
    const runs = this.runs;
    await this.releaseAll();
    return { instance, sessions, runs, ...(errors.length > 0 ? { error: errors.join('; ') } : {}) };
  }

  /** Releases every profiling session (the instance stops, or a new profile begins). */
  async releaseAll(): Promise<void> {
    for (const entry of this.open.values()) await entry.session.release().catch(() => undefined);
    this.open.clear();
    this.runs = [];
    this.profileId = undefined;
  }

  private modelFile(variant: Variant): string {
    if (this.spec.kind !== 'onnxruntime') throw new InferError('UNSUPPORTED', 'only ONNX Runtime models can be profiled');
    const file = variant === 'fp32' ? this.spec.modelPath : this.spec.variants?.[variant];
    if (file === undefined) throw new InferError('INTERNAL', `this instance holds no ${variant} model file to profile`);
    return file;
  }
}

/**
 * Where ORT's clock sits on ours. ORT's `ts` counts from its profiler's start, inside the
 * native session constructor, which comes some milliseconds after `InferenceSession.create`
 * is called (14 ms measured for ocr_cls), so the call's instant is a poor origin. Each
 * profiled run is timed on both clocks instead: its model_run event starts just after the
 * instant measured before session.run (input conversion and one setImmediate apart), so
 * the origin is the median of those differences, and the error is that short gap. The
 * set-up run is not used: as a session's first call it spends about 0.6 ms more in
 * JavaScript before the native run, which would shift every event early.
 */
function alignment(entry: Open, events: readonly OrtProfileEvent[], runs: readonly { readonly computeStart: number }[]): { originMs: number; firstUs: number } {
  const modelRuns = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const setup = modelRuns[0];
  const firstUs = setup === undefined ? (entry.readyMs - entry.startMs) * 1000 : setup.ts + (setup.dur ?? 0);
  const offsets = modelRuns
    .slice(1)
    .map((event, i) => (runs[i] === undefined ? undefined : runs[i]!.computeStart - event.ts / 1000))
    .filter((v): v is number => v !== undefined)
    .sort((a, b) => a - b);
  if (offsets.length > 0) return { originMs: offsets[Math.floor(offsets.length / 2)]!, firstUs };
  return { originMs: setup === undefined ? entry.startMs : entry.setupRun.start - setup.ts / 1000, firstUs };
}

/** Reads (and removes) the file ONNX Runtime wrote for `prefix`: `<prefix>_<date and time>.json`. */
async function readProfile(prefix: string): Promise<OrtProfileEvent[]> {
  const dir = path.dirname(prefix);
  const base = `${path.basename(prefix)}_`;
  const names = (await readdir(dir)).filter((n) => n.startsWith(base) && n.endsWith('.json'));
  if (names.length === 0) throw new Error(`ONNX Runtime wrote no profile file ${prefix}_*.json`);
  const events: OrtProfileEvent[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const parsed = JSON.parse(await readFile(file, 'utf8')) as OrtProfileEvent[] | { traceEvents: OrtProfileEvent[] };
    events.push(...(Array.isArray(parsed) ? parsed : parsed.traceEvents));
    await rm(file, { force: true });
  }
  return events;
}
