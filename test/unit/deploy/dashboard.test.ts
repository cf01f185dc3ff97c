import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const DASHBOARD = JSON.parse(readFileSync(new URL('../../../deploy/grafana/nereid-dashboard.json', import.meta.url), 'utf8')) as {
  panels: { id: number; type: string; title: string; gridPos: { x: number; y: number; w: number; h: number }; targets?: { expr: string }[] }[];
};
const TELEMETRY = new URL('../../../src/telemetry/', import.meta.url);
const SOURCES = readdirSync(TELEMETRY)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(new URL(f, TELEMETRY), 'utf8'))
  .join('\n');

describe('the Grafana dashboard', () => {
  it('has unique panel ids and panels that do not overlap', () => {
    const ids = DASHBOARD.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    const cells = new Map<string, string>();
    for (const panel of DASHBOARD.panels) {
      const { x, y, w, h } = panel.gridPos;
      assert.ok(x >= 0 && x + w <= 24, `${panel.title} fits the 24-column grid`);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const other = cells.get(`${i},${j}`);
          assert.equal(other, undefined, `${panel.title} overlaps ${other}`);
          cells.set(`${i},${j}`, panel.title);
        }
      }
    }
  });

  it('queries only metrics Nereid exports', () => {
    const names = new Set(
      DASHBOARD.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/\b((?:nv|nereid)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_bucket$/, '')))),
    );
    for (const name of ['nv_cache_num_hits_per_model', 'nv_cpu_utilization', 'nv_gpu_power_usage', 'nereid_precision_request_success', 'nereid_instance_executions_total']) {
      assert.ok(names.has(name), `a panel shows ${name}`);
    }
    for (const name of names) assert.ok(SOURCES.includes(`'${name}'`), `${name} is registered in src/telemetry`);
  });
});
