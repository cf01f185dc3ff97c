/**
 * The layering of docs/architecture.md, checked on the source: no module imports, at run
 * time, a module that imports it back (however far round), and backend/ is execution only.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = new URL('../../', import.meta.url).pathname;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of each file (`import type` left out: erased before running), as repository paths. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(join(root, 'src'))) {
    const text = readFileSync(file, 'utf8');
    const deps: string[] = [];
    for (const m of text.matchAll(/^(import|export)(\s+type)?\b[^;]*?from\s+'(\.[^']+)'/gms)) {
      if (m[2] !== undefined) continue;
      deps.push(relative(root, normalize(join(dirname(file), m[3]!.replace(/\.js$/, '.ts')))));
    }
    graph.set(relative(root, file), deps);
  }
  return graph;
}

describe('import graph', () => {
  const graph = importGraph();

  it('has no run-time import cycles', () => {
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const cycles: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' -> '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
    assert.ok(graph.size > 100, 'the walk found the sources');
  });

  it('keeps backend/ to execution: it imports only core and itself', () => {
    const outside = [...graph].flatMap(([file, deps]) =>
      file.startsWith('src/backend/') ? deps.filter((d) => !d.startsWith('src/backend/') && !d.startsWith('src/core/')).map((d) => `${file} -> ${d}`) : [],
    );
    assert.deepEqual(outside, []);
  });

  it('keeps the backend interface apart from the factory that imports every implementation', () => {
    assert.deepEqual(graph.get('src/backend/model-backend.ts'), []);
  });
});
