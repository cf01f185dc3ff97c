/**
 * What one request costs (issue 13), from one run's CPU columns: overhead per request, the
 * shared-CPU limit, and the one-event-loop ceiling. Reported, never asserted in tests.
 *
 *   overhead      = server CPU per request − echo CPU per request (same bytes, same level,
 *                   same protocol: nereid-http against echo-http)
 *                   − in-process ONNX Runtime CPU per item × items per request
 *   shared limit  = 1 / (1/echo throughput + 1/in-process best throughput)
 *   ceiling       = 1 / main-thread CPU per request (what one event loop can serve)
 */
import type { BenchRun, CostRow, InProcessResult, ResultRow, TargetCheck } from './bench-types.js';

/** Issue 13's targets: overhead per request (µs) at the level where throughput is checked too. */
export const COST_TARGETS: Readonly<Record<string, { readonly level: number; readonly overheadUs: number }>> = {
  simple: { level: 16, overheadUs: 60 },
  'ocr-cls': { level: 32, overheadUs: 150 },
  'ocr-rec': { level: 4, overheadUs: 1000 },
};
/** Throughput against the shared-CPU limit, at the target level. */
export const LIMIT_RATIO_GOAL = 0.9;
/** ocr-cls at c=1: p50 within echo p50 + in-process batch-1 p50 + this many ms. */
export const LATENCY_SLACK_MS = 0.3;

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * The in-process point whose CPU per item stands for the server's compute: the batch size
 * nearest (in ratio) to the mean batch the server executed, or batch 1 when that is unknown.
 */
export function inProcessPointFor(inProcess: InProcessResult, executedBatch: number | null | undefined): { batch: number; cpuPerItemUs: number | null } {
  const target = finite(executedBatch) && executedBatch > 0 ? executedBatch : 1;
  const point = inProcess.sweep.reduce<InProcessResult['sweep'][number] | undefined>(
    (best, p) => (best === undefined || Math.abs(Math.log(p.batch / target)) < Math.abs(Math.log(best.batch / target)) ? p : best),
    undefined,
  );
  if (point === undefined) return { batch: 1, cpuPerItemUs: inProcess.batch1.cpuPerItemUs ?? null };
  return { batch: point.batch, cpuPerItemUs: point.cpuPerItemUs ?? null };
}

/** One cost row per nereid target and level of a concurrency run. */
export function computeCost(run: BenchRun): CostRow[] {
  const rows: CostRow[] = [];
  const ip = run.inProcess;
  for (const row of run.results.filter((r) => r.target.startsWith('nereid'))) {
    // Each protocol against its own echo: nereid-http against the HTTP echo, the rest against gRPC's.
    const echoTarget = row.target.endsWith('-http') ? 'echo-http' : 'echo';
    const echo = run.results.find((r) => r.target === echoTarget && r.level === row.level);
    const point = ip !== null ? inProcessPointFor(ip, row.executedBatch) : null;
    const serverUs = row.cpu?.serverTotalUs ?? null;
    const echoUs = echo?.cpu?.serverTotalUs ?? null;
    const inProcessUs = point?.cpuPerItemUs !== null && point !== null ? point.cpuPerItemUs! * run.workload.batchSize : null;
    const overheadUs = finite(serverUs) && finite(echoUs) && finite(inProcessUs) ? serverUs - echoUs - inProcessUs : null;
    const sharedLimitPerSec = echo !== undefined && ip !== null && echo.inferPerSec > 0 && ip.best.itemsPerSec > 0 ? 1 / (1 / echo.inferPerSec + 1 / ip.best.itemsPerSec) : null;
    const mainUs = row.cpu?.serverMainUs ?? null;
    rows.push({
      target: row.target,
      level: row.level,
      serverUs,
      mainUs,
      instancesUs: row.cpu?.serverInstancesUs ?? null,
      echoUs,
      inProcessUs,
      inProcessBatch: point?.batch ?? null,
      overheadUs,
      sharedLimitPerSec,
      limitRatio: sharedLimitPerSec !== null ? row.inferPerSec / sharedLimitPerSec : null,
      mainThreadCeilingPerSec: finite(mainUs) && mainUs > 0 ? (1e6 / mainUs) * run.workload.batchSize : null,
    });
  }
  return rows;
}

function find(rows: readonly ResultRow[], target: string, level: number): ResultRow | undefined {
  return rows.find((r) => r.target === target && r.level === level);
}

/** Issue 13's pass/miss lines for this run's workload (nothing for workloads it sets no target for). */
export function costChecks(run: BenchRun, cost: readonly CostRow[]): TargetCheck[] {
  const goal = COST_TARGETS[run.workload.name];
  if (goal === undefined || run.settings.mode !== 'concurrency' || run.precision !== undefined) return [];
  const checks: TargetCheck[] = [];
  const at = cost.find((c) => c.target === 'nereid' && c.level === goal.level);
  const prefix = `${run.workload.name} c=${goal.level}`;
  const overheadName = `${prefix}: overhead per request, server − echo − in-process CPU (µs)`;
  checks.push(
    at !== undefined && at.overheadUs !== null
      ? {
          name: overheadName,
          value: at.overheadUs,
          goal: `<= ${goal.overheadUs} µs`,
          met: at.overheadUs <= goal.overheadUs,
          note: `server ${at.serverUs!.toFixed(0)} (main ${at.mainUs?.toFixed(0) ?? '?'}, instances ${at.instancesUs?.toFixed(0) ?? '?'}), echo ${at.echoUs!.toFixed(0)}, in-process ${at.inProcessUs!.toFixed(0)} at batch ${at.inProcessBatch}`,
        }
      : { name: overheadName, value: null, goal: `<= ${goal.overheadUs} µs`, met: null, note: `not measured in this run (needs nereid and echo at c=${goal.level}, the in-process baseline and /proc)` },
  );
  const limitName = `${prefix}: nereid / shared-CPU limit 1/(1/echo + 1/in-process best)`;
  checks.push(
    at !== undefined && at.limitRatio !== null
      ? { name: limitName, value: at.limitRatio, goal: `>= ${LIMIT_RATIO_GOAL.toFixed(2)}`, met: at.limitRatio >= LIMIT_RATIO_GOAL, note: `limit ${at.sharedLimitPerSec!.toFixed(1)}/s` }
      : { name: limitName, value: null, goal: `>= ${LIMIT_RATIO_GOAL.toFixed(2)}`, met: null, note: `not measured in this run (needs nereid and echo at c=${goal.level} and the in-process baseline)` },
  );
  if (run.workload.name === 'ocr-cls') {
    const name = `ocr-cls c=1: nereid p50 − (echo p50 + in-process batch-1 p50) (ms)`;
    const n = find(run.results, 'nereid', 1);
    const e = find(run.results, 'echo', 1);
    const ip = run.inProcess;
    checks.push(
      n && e && ip
        ? (() => {
            const value = (n.latency.p50Us - e.latency.p50Us - ip.batch1.latency.p50Us) / 1000;
            return { name, value, goal: `<= ${LATENCY_SLACK_MS} ms`, met: value <= LATENCY_SLACK_MS, note: `nereid ${(n.latency.p50Us / 1000).toFixed(2)}, echo ${(e.latency.p50Us / 1000).toFixed(2)}, in-process ${(ip.batch1.latency.p50Us / 1000).toFixed(2)} ms` };
          })()
        : { name, value: null, goal: `<= ${LATENCY_SLACK_MS} ms`, met: null, note: 'not measured in this run (needs nereid and echo at c=1 and the in-process baseline)' },
    );
  }
  return checks;
}

const us = (v: number | null) => (v === null ? '—' : v.toFixed(0));

/** The cost block of the printed table: one line per nereid target and level. */
export function formatCost(run: BenchRun): string[] {
  const cost = run.cost ?? [];
  if (cost.length === 0) return [];
  const lines = ['CPU per request (µs): target c | server (main / instances) | echo | in-process (batch) | overhead | shared-CPU limit /s, ratio | one-loop ceiling /s'];
  for (const c of cost) {
    lines.push(
      `  ${c.target} c=${c.level} | ${us(c.serverUs)} (${us(c.mainUs)} / ${us(c.instancesUs)}) | ${us(c.echoUs)} | ${us(c.inProcessUs)}${c.inProcessBatch !== null ? ` (b${c.inProcessBatch})` : ''} | ` +
        `${us(c.overheadUs)} | ${c.sharedLimitPerSec?.toFixed(0) ?? '—'}, ${c.limitRatio?.toFixed(2) ?? '—'} | ${c.mainThreadCeilingPerSec?.toFixed(0) ?? '—'}`,
    );
  }
  return lines;
}
