import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ProfileParticipant, WorkerProfile } from '../../../src/core/profiling.js';
import type { ExecutionEvent } from '../../../src/core/telemetry.js';
import { OrtProfiles } from '../../../src/telemetry/ort-profiles.js';
import { silentLogger } from '../../helpers/scheduler-fakes.js';
import { waitUntil } from '../../helpers/wait-until.js';

/** An instance's stand-in: records the profile ids asked of it and answers with `profile`. */
function participant(instance: string, runs: number[]): ProfileParticipant & { collected: string[] } {
  const collected: string[] = [];
  return {
    collected,
    collect(id) {
      collected.push(id);
      const profile: WorkerProfile = {
        instance,
        runs: runs.map((start) => ({ variant: 'fp32', computeStart: start, computeEnd: start + 2 })),
        sessions: [
          {
            variant: 'fp32',
            startMs: 900,
            readyMs: 950,
            originMs: 900,
            firstUs: 50_000,
            events: [
              { cat: 'Session', name: 'model_run', ph: 'X', ts: 40_000, dur: 2000 },
              ...runs.flatMap((start) => [
                { cat: 'Session', name: 'model_run', ph: 'X', ts: (start - 900) * 1000, dur: 2000 },
                { cat: 'Node', name: 'conv1_kernel_time', ph: 'X', ts: (start - 900) * 1000 + 10, dur: 1500, args: { op_name: 'Conv' } },
                { cat: 'Node', name: 'relu_kernel_time', ph: 'X', ts: (start - 900) * 1000 + 1600, dur: 300, args: { op_name: 'Relu' } },
              ]),
            ],
          },
        ],
      };
      return Promise.resolve(profile);
    },
  };
}

function execution(instance: string, computeStart: number): ExecutionEvent {
  return {
    model: 'm',
    version: 1,
    instance,
    executionProvider: 'cpu',
    deviceId: 0,
    variant: 'fp32',
    items: 1,
    requests: [{ id: `r${computeStart}`, trace: undefined, receivedAt: computeStart - 3, enqueuedAt: computeStart - 2, answered: true }],
    dispatchAt: computeStart - 1,
    computeStart,
    computeEnd: computeStart + 2,
    end: computeStart + 2.5,
  };
}


describe('OrtProfiles', () => {
  it('flags exactly the next N executions, then collects from each instance that took part and writes the trace', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'nereid-profiles-'));
    const profiles = new OrtProfiles(dir, silentLogger);
    const gate = profiles.gate('m');
    const a = participant('m_0', [1000, 1010]);
    const b = participant('m_1', [1005]);
    assert.equal(gate.claim('m_0', a), undefined, 'nothing is flagged before a profile is asked for');
    const status = profiles.start('m', 3, undefined)!;
    assert.equal(status.state, 'running');
    const tickets = [gate.claim('m_0', a), gate.claim('m_1', b), gate.claim('m_0', a)];
    assert.ok(tickets.every((t) => t?.id === tickets[0]!.id));
    assert.equal(gate.claim('m_0', a), undefined, 'the 4th execution is not profiled');
    assert.equal(profiles.gate('other').claim('o_0', a), undefined, 'other models are not profiled');
    for (const [instance, start] of [['m_0', 1000], ['m_1', 1005], ['m_0', 1010], ['m_0', 1020]] as const) profiles.onExecution(execution(instance, start));
    await waitUntil(() => profiles.status('m')?.state === 'written', 'the profile is written');
    assert.deepEqual([a.collected.length, b.collected.length], [1, 1]);
    const trace = JSON.parse(readFileSync(status.file, 'utf8')) as { traceEvents: { name: string; cat?: string; ts?: number }[] };
    assert.equal(trace.traceEvents.filter((e) => e.name === 'compute').length, 3, 'the unprofiled execution at 1020 is left out');
    assert.equal(trace.traceEvents.filter((e) => e.name === 'model_run').length, 3, "the set-up run's events are left out");
    const conv = trace.traceEvents.find((e) => e.name === 'conv1_kernel_time')!;
    const compute = trace.traceEvents.find((e) => e.name === 'compute')!;
    assert.equal(conv.ts! - compute.ts!, 10, 'ORT events sit on the phases clock (10 µs after compute start)');
    const summary = JSON.parse(readFileSync(status.summaryFile, 'utf8')) as { variants: { fp32: { operators: { op: string; totalUs: number; share: number }[] } } };
    assert.deepEqual(summary.variants.fp32.operators.map((o) => [o.op, o.totalUs]), [['Conv', 4500], ['Relu', 900]]);
  });

  it('profiles one instance when asked, refuses a second profile while one runs, and 0 ends it early', async () => {
    const profiles = new OrtProfiles(mkdtempSync(path.join(tmpdir(), 'nereid-profiles-')), silentLogger);
    const gate = profiles.gate('m');
    const a = participant('m_0', []);
    const b = participant('m_1', [2000]);
    profiles.start('m', 10, 'm_1');
    assert.equal(gate.claim('m_0', a), undefined);
    assert.ok(gate.claim('m_1', b) !== undefined);
    assert.throws(() => profiles.start('m', 5, undefined), /a profile of model 'm' is already running \(9 of 10 executions left\)/);
    profiles.start('m', 0, undefined);
    assert.equal(gate.claim('m_1', b), undefined);
    await waitUntil(() => profiles.status('m')?.state === 'written', 'the profile is written');
    assert.deepEqual([a.collected.length, b.collected.length], [0, 1]);
  });
});
