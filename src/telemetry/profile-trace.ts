import type { Variant } from '../core/precision.js';
import type { OrtProfileEvent, ProfiledSession, WorkerProfile } from '../core/profiling.js';
import type { ExecutionEvent } from '../core/telemetry.js';

/** One event of a Chrome trace (the JSON Perfetto and chrome://tracing open); times in µs. */
export interface TraceEvent {
  readonly name: string;
  readonly cat?: string;
  readonly ph: 'X' | 'M';
  readonly ts?: number;
  readonly dur?: number;
  readonly pid: number;
  readonly tid: number;
  readonly args?: Readonly<Record<string, unknown>>;
}

/** Time spent in one ONNX operator type. */
export interface OperatorTime {
  readonly op: string;
  readonly totalUs: number;
  readonly calls: number;
  /** Of the variant's summed kernel time. */
  readonly share: number;
}

/** What a profile found, per precision variant. */
export interface ProfileSummary {
  readonly model: string;
  readonly executions: number;
  readonly variants: Readonly<Partial<Record<Variant, {
    readonly executions: number;
    /** ONNX Runtime's model_run events, summed. */
    readonly modelRunUs: number;
    readonly kernelUs: number;
    readonly operators: readonly OperatorTime[];
    readonly slowestNodes: readonly { readonly node: string; readonly op: string; readonly totalUs: number }[];
  }>>>;
  /** Nereid's phases of the profiled executions, summed (queue summed over their requests). */
  readonly phasesUs: { readonly queue: number; readonly h2d: number; readonly compute: number; readonly d2h: number };
}

const PID = 1;
const KERNEL_SUFFIX = '_kernel_time';

/**
 * One Chrome/Perfetto trace of a profile: for each instance, Nereid's phases of the
 * profiled executions (a `queue` span per request, then `h2d`, `compute` and `d2h`) and
 * ONNX Runtime's events of the same executions (sessions and nodes) on tracks beside
 * them. ORT's `ts` counts µs from its profiler's start; the worker found where that sits
 * on the phases' clock (`originMs`, from the session's unrecorded set-up run timed on both
 * clocks), so adding it puts both on one timeline. Events of the set-up (loading and that
 * run) are left out. Times are µs since the earliest event.
 */
export function buildProfileTrace(model: string, workers: readonly WorkerProfile[], events: readonly ExecutionEvent[]): { trace: { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> }; summary: ProfileSummary } {
  const profiled = events.filter((e) => workers.some((w) => w.instance === e.instance && w.runs.some((r) => r.computeStart === e.computeStart)));
  const starts = [...profiled.flatMap((e) => e.requests.map((r) => r.enqueuedAt)), ...workers.flatMap((w) => w.sessions.map((s) => s.startMs))];
  const t0 = starts.length > 0 ? Math.min(...starts) : 0;
  const us = (ms: number) => Math.round((ms - t0) * 1000 * 1000) / 1000;
  const traceEvents: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: `nereid: model ${model}` } }];
  const phases = { queue: 0, h2d: 0, compute: 0, d2h: 0 };
  const instances = [...new Set([...workers.map((w) => w.instance), ...profiled.map((e) => e.instance)])].sort();
  instances.forEach((instance, i) => {
    const tid = (n: number) => i * 100 + n + 1;
    const thread = (n: number, name: string) => traceEvents.push({ name: 'thread_name', ph: 'M', pid: PID, tid: tid(n), args: { name } });
    thread(0, `${instance}: queue (one span per request)`);
    thread(1, `${instance}: execution (h2d, compute, d2h)`);
    profiled
      .filter((e) => e.instance === instance)
      .forEach((e, index) => {
        const common = { model: e.model, version: e.version, instance, variant: e.variant, batch_items: e.items, execution: index + 1 };
        for (const r of e.requests) {
          traceEvents.push({ name: 'queue', cat: 'nereid', ph: 'X', pid: PID, tid: tid(0), ts: us(r.enqueuedAt), dur: us(e.dispatchAt) - us(r.enqueuedAt), args: { ...common, request_id: r.id } });
          phases.queue += (e.dispatchAt - r.enqueuedAt) * 1000;
        }
        const span = (name: 'h2d' | 'compute' | 'd2h', from: number, to: number) => {
          traceEvents.push({ name, cat: 'nereid', ph: 'X', pid: PID, tid: tid(1), ts: us(from), dur: Math.max(0, us(to) - us(from)), args: common });
          phases[name] += (to - from) * 1000;
        };
        span('h2d', e.dispatchAt, e.computeStart);
        span('compute', e.computeStart, e.computeEnd);
        span('d2h', e.computeEnd, e.end);
      });
    const worker = workers.find((w) => w.instance === instance);
    worker?.sessions.forEach((session, k) => {
      thread(2 + k, `${instance}: onnxruntime ${session.variant} (profiling session)`);
      traceEvents.push({ name: 'profiling session set-up (load and one unrecorded run; not an execution)', cat: 'nereid', ph: 'X', pid: PID, tid: tid(1), ts: us(session.startMs), dur: us(session.readyMs) - us(session.startMs), args: { variant: session.variant } });
      for (const event of executionEvents(session)) {
        traceEvents.push({ name: event.name, cat: `onnxruntime.${event.cat}`, ph: 'X', pid: PID, tid: tid(2 + k), ts: us(session.originMs + event.ts / 1000), dur: event.dur ?? 0, ...(event.args !== undefined ? { args: event.args } : {}) });
      }
    });
  });
  const summary: ProfileSummary = { model, executions: profiled.length, variants: summarize(workers, profiled), phasesUs: roundAll(phases) };
  return {
    trace: { traceEvents, displayTimeUnit: 'ms', otherData: { model, startedAt: new Date(t0).toISOString(), executions: profiled.length, clock: 'µs since startedAt; ONNX Runtime events placed by their session\'s start' } },
    summary,
  };
}

/** A session's events from the end of its set-up run on: the profiled executions only. */
function executionEvents(session: ProfiledSession): OrtProfileEvent[] {
  return session.events.filter((e) => e.ph === 'X' && e.ts >= session.firstUs);
}

function summarize(workers: readonly WorkerProfile[], profiled: readonly ExecutionEvent[]): ProfileSummary['variants'] {
  const out: Partial<Record<Variant, ProfileSummary['variants'][Variant]>> = {};
  const variants = [...new Set(workers.flatMap((w) => w.sessions.map((s) => s.variant)))];
  for (const variant of variants) {
    const ops = new Map<string, { totalUs: number; calls: number }>();
    const nodes = new Map<string, { op: string; totalUs: number }>();
    let modelRunUs = 0;
    for (const session of workers.flatMap((w) => w.sessions.filter((s) => s.variant === variant))) {
      for (const event of executionEvents(session)) {
        if (event.cat === 'Session' && event.name === 'model_run') modelRunUs += event.dur ?? 0;
        if (event.cat !== 'Node' || !event.name.endsWith(KERNEL_SUFFIX)) continue;
        const op = String(event.args?.['op_name'] ?? 'unknown');
        const node = event.name.slice(0, -KERNEL_SUFFIX.length);
        const o = ops.get(op) ?? { totalUs: 0, calls: 0 };
        o.totalUs += event.dur ?? 0;
        o.calls += 1;
        ops.set(op, o);
        const n = nodes.get(node) ?? { op, totalUs: 0 };
        n.totalUs += event.dur ?? 0;
        nodes.set(node, n);
      }
    }
    const kernelUs = [...ops.values()].reduce((a, o) => a + o.totalUs, 0);
    out[variant] = {
      executions: profiled.filter((e) => e.variant === variant).length,
      modelRunUs,
      kernelUs,
      operators: [...ops].map(([op, o]) => ({ op, totalUs: o.totalUs, calls: o.calls, share: kernelUs > 0 ? Math.round((o.totalUs / kernelUs) * 1000) / 1000 : 0 })).sort((a, b) => b.totalUs - a.totalUs),
      slowestNodes: [...nodes].map(([node, n]) => ({ node, op: n.op, totalUs: n.totalUs })).sort((a, b) => b.totalUs - a.totalUs).slice(0, 10),
    };
  }
  return out;
}

function roundAll(phases: Record<'queue' | 'h2d' | 'compute' | 'd2h', number>): ProfileSummary['phasesUs'] {
  return { queue: Math.round(phases.queue), h2d: Math.round(phases.h2d), compute: Math.round(phases.compute), d2h: Math.round(phases.d2h) };
}
