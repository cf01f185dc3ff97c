import type { TraceControl, TraceSettingChange, TraceSettingValues } from '../core/telemetry.js';

interface SamplerState {
  calls: number;
  remaining: number;
}

/**
 * Owns the trace settings (global and per model) and the counting sampler they drive,
 * with Triton's semantics: a root request is traced every `rate`-th call while `count`
 * (−1 = unlimited) lasts; a model with its own rate or count has its own counters.
 * Main thread only.
 */
export class TraceSettings implements TraceControl {
  private global: TraceSettingValues;
  private readonly perModel = new Map<string, Partial<TraceSettingValues>>();
  private readonly samplers = new Map<string, SamplerState>();

  constructor(
    initial: TraceSettingValues,
    private readonly exporter: Readonly<Record<string, string>>,
  ) {
    this.global = initial;
    this.samplers.set('', { calls: 0, remaining: initial.count });
  }

  /** Effective settings; `count` is what is left of it, as Triton reports it. */
  settings(model: string): TraceSettingValues & { readonly exporter: Readonly<Record<string, string>> } {
    const effective = { ...this.global, ...(model === '' ? {} : this.perModel.get(model)) };
    const state = this.samplers.get(this.scope(model));
    return { ...effective, count: state?.remaining ?? effective.count, exporter: this.exporter };
  }

  /** Whose counters a model uses: its own when it overrides rate or count, else the global ones. */
  private scope(model: string): string {
    const own = this.perModel.get(model);
    return own !== undefined && (own.rate !== undefined || own.count !== undefined) ? model : '';
  }

  update(model: string, change: TraceSettingChange): void {
    if (model === '') {
      const next = { ...this.global };
      for (const [key, value] of Object.entries(change) as [keyof TraceSettingValues, never][]) {
        if (value !== undefined && value !== null) next[key] = value;
      }
      this.global = next;
      if (change.count !== undefined || change.rate !== undefined) this.samplers.set('', { calls: 0, remaining: next.count });
      return;
    }
    const override: Partial<Record<keyof TraceSettingValues, unknown>> = { ...this.perModel.get(model) };
    for (const [key, value] of Object.entries(change) as [keyof TraceSettingValues, unknown][]) {
      if (value === null) delete override[key];
      else if (value !== undefined) override[key] = value;
    }
    if (Object.keys(override).length === 0) this.perModel.delete(model);
    else this.perModel.set(model, override as Partial<TraceSettingValues>);
    this.samplers.delete(model);
  }

  /** True when tracing is on for the model at all (level not OFF). */
  enabled(model: string): boolean {
    return (this.perModel.get(model)?.level ?? this.global.level) !== 'OFF';
  }

  /** The counting decision for a request without a sampled parent. */
  sampleRoot(model: string): boolean {
    const effective = { ...this.global, ...this.perModel.get(model) };
    if (effective.level === 'OFF') return false;
    const key = this.scope(model);
    let state = this.samplers.get(key);
    if (state === undefined) {
      state = { calls: 0, remaining: effective.count };
      this.samplers.set(key, state);
    }
    // rate 0: only requests that arrive with a sampled trace context are traced.
    if (state.remaining === 0 || effective.rate === 0) return false;
    state.calls += 1;
    if (state.calls % effective.rate !== 0) return false;
    if (state.remaining > 0) state.remaining -= 1;
    return true;
  }
}
