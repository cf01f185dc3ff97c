import type { BackendSpec, Executor, InstancePlan, InstanceSet } from '../core/execution.js';
import type { Logger } from '../core/logger.js';
import type { InstanceStatus } from '../core/servable.js';
import type { ProfileGate } from '../core/profiling.js';
import type { WarmupRun } from '../core/warmup.js';
import { ModelInstance } from './model-instance.js';
import { spawnInstanceWorker, type SpawnWorker } from './worker-port.js';

const RESTART_DELAYS_MS = [0, 100, 500, 2000, 5000];

interface Slot {
  readonly plan: InstancePlan;
  instance: ModelInstance | undefined;
  /** The current lease, if any; a lease given back after its instance was replaced is stale and ignored. */
  lease: object | undefined;
  executions: number;
  restarts: number;
  stopped: boolean;
}

/**
 * The instances of one model version. Owns their lifecycle: starts them all (the version
 * loads only if every instance loads), leases idle ones to the scheduler, and replaces
 * an instance whose worker dies, retrying with back-off. Main thread only.
 *
 * The pool never calls into its scheduler from inside a call the scheduler made: idleness
 * (a lease given back, an instance started) is queued and announced once, in a microtask,
 * so the lease holder has finished what it was doing (returning staging buffers) before
 * the scheduler's pump runs again.
 */
export class InstancePool implements InstanceSet {
  private readonly slots: Slot[];
  private readonly idleListeners: (() => void)[] = [];
  private readonly failureListeners: ((index: number, name: string) => void)[] = [];
  private stopping = false;
  private idleQueued = false;

  constructor(
    plans: readonly InstancePlan[],
    private readonly backend: BackendSpec,
    private readonly logger: Logger,
    private readonly spawn: SpawnWorker = spawnInstanceWorker,
    /** model_warmup runs every instance (replacements too) does before it takes work. */
    private readonly warmup: readonly WarmupRun[] = [],
    /** Decides which executions run under ONNX Runtime's profiler; absent: none. */
    private readonly profileGate?: ProfileGate,
  ) {
    this.slots = plans.map((plan) => ({ plan, instance: undefined, lease: undefined, executions: 0, restarts: 0, stopped: false }));
  }

  /** Starts every instance; if one fails to load, stops the others and throws its error. */
  async start(): Promise<void> {
    const results = await Promise.allSettled(this.slots.map((slot) => this.launch(slot)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      await this.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
  }

  get instanceCount(): number {
    return this.slots.length;
  }

  acquire(): Executor | undefined {
    const slot = this.slots.find((s) => s.lease === undefined && s.instance?.isIdle === true);
    return slot === undefined ? undefined : this.lease(slot);
  }

  isInstanceIdle(index: number): boolean {
    const slot = this.slots[index];
    return slot !== undefined && slot.lease === undefined && slot.instance?.isIdle === true;
  }

  acquireInstance(index: number): Executor | undefined {
    return this.isInstanceIdle(index) ? this.lease(this.slots[index]!) : undefined;
  }

  onInstanceFailed(listener: (index: number, name: string) => void): void {
    this.failureListeners.push(listener);
  }

  private lease(slot: Slot): Executor {
    const lease = {};
    slot.lease = lease;
    const instance = slot.instance!;
    return {
      instanceName: instance.name,
      executionProvider: slot.plan.settings.executionProvider,
      deviceId: slot.plan.settings.deviceId,
      execute: async (request) => {
        const result = await instance.execute(request);
        slot.executions += 1;
        return result;
      },
      release: () => {
        if (slot.lease !== lease) return;
        slot.lease = undefined;
        this.notifyIdle();
      },
    };
  }

  onIdle(listener: () => void): void {
    this.idleListeners.push(listener);
  }

  statuses(): InstanceStatus[] {
    return this.slots.map((slot) => ({
      name: slot.plan.name,
      kind: slot.plan.kind,
      executionProvider: slot.plan.settings.executionProvider,
      deviceId: slot.plan.settings.deviceId,
      state: slot.stopped ? 'stopped' : slot.instance === undefined ? 'starting' : slot.lease !== undefined ? 'busy' : slot.instance.currentState,
      executions: slot.executions,
      restarts: slot.restarts,
    }));
  }

  /** Fault drill: makes one instance's worker exit as a crash would (see CrashMessage). */
  crash(instanceName: string): void {
    this.slots.find((s) => s.plan.name === instanceName)?.instance?.crash();
  }

  /** Stops every instance, letting a running execution finish first. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        slot.stopped = true;
        await slot.instance?.stop();
      }),
    );
  }

  private async launch(slot: Slot): Promise<void> {
    const instance = await ModelInstance.start(slot.plan, this.backend, this.logger.child({ instance: slot.plan.name }), this.spawn, this.warmup, this.profileGate);
    if (this.stopping) {
      await instance.stop();
      return;
    }
    instance.onFailure((reason) => this.replace(slot, reason));
    slot.instance = instance;
    this.notifyIdle();
  }

  private replace(slot: Slot, reason: string): void {
    slot.instance = undefined;
    slot.lease = undefined;
    slot.restarts += 1;
    this.logger.error({ instance: slot.plan.name, reason }, 'model instance failed; starting a replacement');
    const index = this.slots.indexOf(slot);
    for (const listener of this.failureListeners) listener(index, slot.plan.name);
    void this.relaunch(slot, 0);
  }

  private async relaunch(slot: Slot, attempt: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, RESTART_DELAYS_MS[Math.min(attempt, RESTART_DELAYS_MS.length - 1)]));
    if (this.stopping) return;
    try {
      await this.launch(slot);
      this.logger.info({ instance: slot.plan.name }, 'replacement model instance is ready');
    } catch (err) {
      this.logger.error({ instance: slot.plan.name, err: (err as Error).message, attempt }, 'replacement model instance failed to load');
      void this.relaunch(slot, attempt + 1);
    }
  }

  /** Announces idleness once per microtask, never inside the caller's own call (see the class comment). */
  private notifyIdle(): void {
    if (this.idleQueued) return;
    this.idleQueued = true;
    queueMicrotask(() => {
      this.idleQueued = false;
      for (const listener of this.idleListeners) listener();
    });
  }
}

