import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InferError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ProfileControl, ProfileGate, ProfileParticipant, ProfileStatus, ProfileTicket, WorkerProfile } from '../core/profiling.js';
import type { ExecutionEvent, ExecutionObserver } from '../core/telemetry.js';
import { buildProfileTrace } from './profile-trace.js';

interface Profile {
  readonly id: string;
  readonly model: string;
  readonly instance: string | undefined;
  readonly executions: number;
  remaining: number;
  state: ProfileStatus['state'];
  readonly file: string;
  readonly summaryFile: string;
  /** Where the workers have ONNX Runtime write its files (read and removed when the profile ends). */
  readonly filePrefix: string;
  readonly participants: Map<string, ProfileParticipant>;
  /** Executions of the model's participating instances while the profile runs (the profiled ones are picked at the end). */
  readonly events: ExecutionEvent[];
  error?: string;
}

/**
 * ONNX Runtime profiles on demand, one per model at a time, owned here on the main
 * thread. An operator starts one (TraceSetting `nereid_profile_executions`); each model
 * instance asks the model's gate before every execution, and the next N executions (of
 * one instance, if asked) are flagged to run under a profiling session in their worker.
 * After the Nth, every instance that took part is asked for what it recorded, and the
 * Chrome/Perfetto trace (ONNX Runtime's events with Nereid's phases of the same
 * executions, from this observer) and its summary are written to the profile directory.
 * While no profile runs, a gate's claim is one map lookup. Main thread only.
 */
export class OrtProfiles implements ProfileControl, ExecutionObserver {
  private readonly profiles = new Map<string, Profile>();

  constructor(
    private readonly directory: string,
    private readonly logger: Logger,
  ) {}

  /** The gate of one model's instances (all its versions). */
  gate(model: string): ProfileGate {
    return { claim: (instance, participant) => this.claim(model, instance, participant) };
  }

  start(model: string, executions: number, instance: string | undefined): ProfileStatus | undefined {
    const current = this.profiles.get(model);
    if (executions === 0) {
      if (current?.state === 'running') this.finish(current);
      return current === undefined ? undefined : statusOf(current);
    }
    if (current !== undefined && (current.state === 'running' || current.state === 'writing')) {
      throw new InferError(
        'SETTING_INVALID',
        `a profile of model '${model}' is already ${current.state} (${current.remaining} of ${current.executions} executions left); ` +
          "set 'nereid_profile_executions' to 0 to end it first",
      );
    }
    try {
      // The workers' ONNX Runtime writes its files here too, so it must exist before the first run.
      mkdirSync(this.directory, { recursive: true });
    } catch (err) {
      throw new InferError('SETTING_INVALID', `cannot create the profile directory '${this.directory}' (--profile-dir): ${(err as Error).message}`);
    }
    const id = randomUUID();
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const base = path.join(this.directory, `nereid-profile-${model.replace(/[^A-Za-z0-9_.-]/g, '_')}-${stamp}`);
    const profile: Profile = {
      id,
      model,
      instance,
      executions,
      remaining: executions,
      state: 'running',
      file: `${base}.json`,
      summaryFile: `${base}.summary.json`,
      filePrefix: path.join(this.directory, `.ort-${id}`),
      participants: new Map(),
      events: [],
    };
    this.profiles.set(model, profile);
    this.logger.info({ model, instance, executions, file: profile.file }, 'onnx runtime profile started');
    return statusOf(profile);
  }

  status(model: string): ProfileStatus | undefined {
    const profile = this.profiles.get(model);
    return profile === undefined ? undefined : statusOf(profile);
  }

  onExecution(event: ExecutionEvent): void {
    const profile = this.profiles.get(event.model);
    if (profile === undefined || profile.state === 'written' || profile.state === 'failed') return;
    // Bounded: executions of participants between the first profiled one and the collection.
    if (profile.participants.has(event.instance) && profile.events.length < profile.executions * 4 + 256) profile.events.push(event);
  }

  private claim(model: string, instance: string, participant: ProfileParticipant): ProfileTicket | undefined {
    const profile = this.profiles.get(model);
    // remaining reaches 0 a turn before the state leaves 'running' (see below).
    if (profile === undefined || profile.state !== 'running' || profile.remaining <= 0) return undefined;
    if (profile.instance !== undefined && profile.instance !== instance) return undefined;
    profile.remaining -= 1;
    profile.participants.set(instance, participant);
    // The instance sends this execution right after the claim returns; the end of the
    // profile must reach its worker after it, so it waits for this turn to finish.
    if (profile.remaining === 0) queueMicrotask(() => this.finish(profile));
    return { id: profile.id, filePrefix: `${profile.filePrefix}-${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}` };
  }

  private finish(profile: Profile): void {
    profile.state = 'writing';
    profile.remaining = 0;
    void this.write(profile).then(
      () => {
        profile.state = 'written';
      },
      (err: unknown) => {
        profile.state = 'failed';
        profile.error = (err as Error).message;
        this.logger.error({ model: profile.model, err: profile.error }, 'onnx runtime profile failed');
      },
    );
  }

  private async write(profile: Profile): Promise<void> {
    const settled = await Promise.allSettled([...profile.participants.values()].map((p) => p.collect(profile.id)));
    const workers: WorkerProfile[] = [];
    for (const result of settled) {
      if (result.status === 'fulfilled') workers.push(result.value);
      else this.logger.warn({ model: profile.model, err: (result.reason as Error).message }, 'an instance\'s part of the onnx runtime profile was lost');
    }
    for (const w of workers) if (w.error !== undefined) this.logger.warn({ model: profile.model, instance: w.instance, err: w.error }, 'onnx runtime profile incomplete');
    const { trace, summary } = buildProfileTrace(profile.model, workers, profile.events);
    await writeFile(profile.file, JSON.stringify(trace));
    await writeFile(profile.summaryFile, `${JSON.stringify({ ...summary, file: profile.file }, null, 2)}\n`);
    const top = Object.fromEntries(Object.entries(summary.variants).map(([variant, v]) => [variant, v.operators.slice(0, 5).map((o) => `${o.op} ${Math.round(o.share * 100)}%`).join(', ')]));
    this.logger.info({ model: profile.model, executions: summary.executions, file: profile.file, summary: profile.summaryFile, topOperators: top }, 'onnx runtime profile written');
  }
}

function statusOf(p: Profile): ProfileStatus {
  return {
    model: p.model,
    instance: p.instance,
    executions: p.executions,
    remaining: p.remaining,
    state: p.state,
    file: p.file,
    summaryFile: p.summaryFile,
    ...(p.error !== undefined ? { error: p.error } : {}),
  };
}
