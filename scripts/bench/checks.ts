/**
 * The speed targets the issues set, evaluated on one run. They are reported, never
 * asserted in tests: these machines are shared and noisy.
 */
import type { BenchRun, ResultRow, TargetCheck } from './bench-types.js';

function row(run: BenchRun, target: string, level: number): ResultRow | undefined {
  return run.results.find((r) => r.target === target && r.level === level);
}

function missing(name: string, goal: string, what: string): TargetCheck {
  return { name, value: null, goal, met: null, note: `not measured in this run (${what})` };
}

export function computeChecks(run: BenchRun): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const inProcess = run.inProcess;
  if (run.settings.mode !== 'concurrency') return checks;
  // A precision run measures precisions against each other; the workload's other targets are not in it.
  if (run.precision !== undefined) return precisionChecks(run);
  if (run.workload.name === 'simple') {
    const name = 'simple c=16: nereid / echo throughput';
    const n = row(run, 'nereid', 16);
    const e = row(run, 'echo', 16);
    checks.push(n && e ? { name, value: n.inferPerSec / e.inferPerSec, goal: '>= 0.80', met: n.inferPerSec / e.inferPerSec >= 0.8, note: '' } : missing(name, '>= 0.80', 'needs nereid and echo at c=16'));
    // Issue 11: a stream saves each call's HTTP/2 stream setup.
    const s = row(run, 'nereid-stream', 16);
    if (s !== undefined) {
      const streamName = 'simple c=16: nereid-stream / nereid (unary) throughput';
      checks.push(n ? { name: streamName, value: s.inferPerSec / n.inferPerSec, goal: '>= 1.00', met: s.inferPerSec / n.inferPerSec >= 1, note: '' } : missing(streamName, '>= 1.00', 'needs nereid at c=16'));
    }
  }
  if (run.workload.name === 'ocr-cls') {
    const name1 = 'ocr-cls c=1: nereid p50 - in-process batch-1 p50 (ms)';
    const n1 = row(run, 'nereid', 1);
    checks.push(
      n1 && inProcess
        ? { name: name1, value: (n1.latency.p50Us - inProcess.batch1.latency.p50Us) / 1000, goal: '<= 0.5 ms', met: n1.latency.p50Us - inProcess.batch1.latency.p50Us <= 500, note: '' }
        : missing(name1, '<= 0.5 ms', 'needs nereid at c=1 and the in-process baseline'),
    );
    const name32 = 'ocr-cls c=32: nereid / binding limit';
    const n32 = row(run, 'nereid', 32);
    const e32 = row(run, 'echo', 32);
    if (n32 && e32 && inProcess) {
      const limit = Math.min(e32.inferPerSec, inProcess.best.itemsPerSec);
      const binds = e32.inferPerSec <= inProcess.best.itemsPerSec ? `transport binds (echo ${e32.inferPerSec.toFixed(0)}/s < in-process best ${inProcess.best.itemsPerSec.toFixed(0)}/s)` : `compute binds (in-process best ${inProcess.best.itemsPerSec.toFixed(0)}/s < echo ${e32.inferPerSec.toFixed(0)}/s)`;
      checks.push({ name: name32, value: n32.inferPerSec / limit, goal: '>= 0.85', met: n32.inferPerSec / limit >= 0.85, note: binds });
      // On a machine where client, transport and compute share the same cores, their
      // costs add up: the limit is then 1 / (1/echo + 1/in-process), not the smaller one.
      const shared = 1 / (1 / e32.inferPerSec + 1 / inProcess.best.itemsPerSec);
      checks.push({
        name: 'ocr-cls c=32: nereid / shared-CPU limit 1/(1/echo + 1/in-process best)',
        value: n32.inferPerSec / shared,
        goal: '>= 0.85 (informational)',
        met: n32.inferPerSec / shared >= 0.85,
        note: `shared-CPU limit ${shared.toFixed(0)}/s`,
      });
    } else checks.push(missing(name32, '>= 0.85', 'needs nereid and echo at c=32 and the in-process baseline'));
  }
  for (const [workload, goal] of [['simple', 0.8], ['ocr-cls', 0.9]] as const) {
    if (run.workload.name !== workload) continue;
    const name = `${workload} c=16: tracing every request / tracing off (throughput)`;
    const traced = row(run, 'nereid-traced', 16);
    const off = row(run, 'nereid', 16);
    checks.push(
      traced && off
        ? { name, value: traced.inferPerSec / off.inferPerSec, goal: `>= ${goal.toFixed(2)}`, met: traced.inferPerSec / off.inferPerSec >= goal, note: '' }
        : missing(name, `>= ${goal.toFixed(2)}`, 'needs nereid and nereid-traced at c=16'),
    );
  }
  if (run.workload.name === 'ocr-rec') {
    const name = 'ocr-rec c=4: nereid / in-process best';
    const n = row(run, 'nereid', 4);
    checks.push(n && inProcess ? { name, value: n.inferPerSec / inProcess.best.itemsPerSec, goal: '>= 0.90', met: n.inferPerSec / inProcess.best.itemsPerSec >= 0.9, note: '' } : missing(name, '>= 0.90', 'needs nereid at c=4 and the in-process baseline'));
  }
  if (run.targets.includes('nereid-shm')) checks.push(...sharedMemoryChecks(run));
  return checks;
}

/** Issue 12's goals for tensors moved through system shared memory (target nereid-shm). */
function sharedMemoryChecks(run: BenchRun): TargetCheck[] {
  const inProcess = run.inProcess;
  if (run.workload.name === 'ocr-rec') {
    const name = 'ocr-rec c=4: nereid-shm / in-process best';
    const n = row(run, 'nereid-shm', 4);
    return [n && inProcess ? { name, value: n.inferPerSec / inProcess.best.itemsPerSec, goal: '>= 0.90', met: n.inferPerSec / inProcess.best.itemsPerSec >= 0.9, note: '' } : missing(name, '>= 0.90', 'needs nereid-shm at c=4 and the in-process baseline')];
  }
  if (run.workload.name === 'ocr-cls') {
    const name = 'ocr-cls c=1: nereid-shm p50 - in-process batch-1 p50 (ms)';
    const n = row(run, 'nereid-shm', 1);
    return [
      n && inProcess
        ? { name, value: (n.latency.p50Us - inProcess.batch1.latency.p50Us) / 1000, goal: '<= 0.5 ms', met: n.latency.p50Us - inProcess.batch1.latency.p50Us <= 500, note: '' }
        : missing(name, '<= 0.5 ms', 'needs nereid-shm at c=1 and the in-process baseline'),
    ];
  }
  return [];
}

/** Per-request precision targets: int8 against fp32 in the same run, and the classifier's agreement. */
function precisionChecks(run: BenchRun): TargetCheck[] {
  const info = run.precision;
  if (info === undefined) return [];
  const checks: TargetCheck[] = [];
  // Peak against peak: each precision at the load level where it served the most.
  const peak = (target: string) =>
    run.results.filter((r) => r.target === target && r.inferPerSec > 0).reduce<ResultRow | undefined>((best, r) => (best === undefined || r.inferPerSec > best.inferPerSec ? r : best), undefined);
  const fp32 = peak('nereid-fp32');
  const lifted = info.tolerancesLifted ? 'tolerances lifted to time it; ' : '';
  const status = (p: string) => `${p} ${info.figures[`precision.${p}.status`] ?? 'not configured'}${info.figures[`precision.${p}.reason`] ? ` (${info.figures[`precision.${p}.reason`]})` : ''}`;
  const where = (a: ResultRow, b: ResultRow) => `peaks at c=${a.level} and c=${b.level}; `;
  const goal = run.workload.name === 'mlp' ? 1.8 : 1.5;
  const int8 = peak('nereid-int8');
  const name = `${run.workload.name}: int8 (${info.int8Mode}) / fp32 peak throughput`;
  checks.push(
    fp32 && int8
      ? { name, value: int8.inferPerSec / fp32.inferPerSec, goal: `>= ${goal.toFixed(2)}`, met: int8.inferPerSec / fp32.inferPerSec >= goal, note: `${where(int8, fp32)}${lifted}${status('int8')}` }
      : missing(name, `>= ${goal.toFixed(2)}`, `needs nereid-fp32 and nereid-int8; ${status('int8')}`),
  );
  const fp16 = peak('nereid-fp16');
  if (fp32 && fp16) {
    checks.push({ name: `${run.workload.name}: fp16 / fp32 peak throughput`, value: fp16.inferPerSec / fp32.inferPerSec, goal: 'report (CPU fp16 is expected to be slower)', met: null, note: `${where(fp16, fp32)}${lifted}${status('fp16')}` });
  }
  if (run.workload.name === 'ocr-cls') {
    const agreement = Number(info.figures['precision.int8.top1_agreement']);
    const name1 = 'ocr-cls: int8 top-1 agreement with fp32 on the validation inputs';
    checks.push(Number.isFinite(agreement) ? { name: name1, value: agreement, goal: '>= 0.99', met: agreement >= 0.99, note: '' } : missing(name1, '>= 0.99', 'no int8 figures'));
  }
  return checks;
}
