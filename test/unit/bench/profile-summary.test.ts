import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addProfile, fileOf, formatSummary, selfTimes, threadIdOf, type CpuProfile } from '../../../scripts/bench/profile-summary.js';

const frame = (functionName: string, url = '', lineNumber = -1) => ({ functionName, url, lineNumber });
// Samples at 1000+10, +20, ... each standing for the time to the next one.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)') },
    { id: 2, callFrame: frame('(idle)') },
    { id: 3, callFrame: frame('pump', 'file:///repo/dist/src/scheduler/dynamic-batcher.js', 41) },
    { id: 4, callFrame: frame('respond', 'node:internal/http2/core', 2791) },
    { id: 5, callFrame: frame('encode', 'file:///repo/node_modules/@grpc/grpc-js/build/src/x.js', 9) },
  ],
  startTime: 1000,
  endTime: 1100,
  samples: [3, 3, 4, 2, 5, 3],
  timeDeltas: [10, 10, 20, 10, 30, 10],
};

describe('profile summary', () => {
  it('weighs each sample by the time to the next and keeps only samples inside the windows', () => {
    assert.deepEqual([...selfTimes(profile, [])], [[3, 10 + 20], [4, 10], [2, 30], [5, 10]]);
    // Sample stamps: 1010, 1020, 1040, 1050, 1080, 1090.
    assert.deepEqual([...selfTimes(profile, [{ fromUs: 1015, toUs: 1045 }])], [[3, 20], [4, 10]]);
  });

  it('names files by repository path, package or Node module, and threads by Node thread id', () => {
    assert.equal(fileOf(frame('pump', 'file:///repo/dist/src/scheduler/dynamic-batcher.js')), 'src/scheduler/dynamic-batcher.js');
    assert.equal(fileOf(frame('pump', 'file:///repo/dist/scheduler/dynamic-batcher.js')), 'src/scheduler/dynamic-batcher.js', 'npm run build');
    assert.equal(fileOf(frame('pump', 'file:///repo/src/scheduler/dynamic-batcher.ts')), 'src/scheduler/dynamic-batcher.ts', 'tsx');
    assert.equal(fileOf(frame('x', 'file:///repo/node_modules/@grpc/grpc-js/build/src/x.js')), '@grpc/grpc-js');
    assert.equal(fileOf(frame('(garbage collector)')), '(garbage collector)');
    assert.equal(threadIdOf('/p/CPU.20261130.214840.18869.3.003.cpuprofile'), 3);
    assert.equal(threadIdOf('notes.txt'), null);
  });

  it('reports µs per request, shares of busy time and, given /proc CPU, CPU per request', () => {
    const summary = addProfile({ label: 'main thread', threads: 0, busyUs: 0, idleUs: 0, byFunction: new Map(), byFile: new Map() }, profile, []);
    assert.equal(summary.busyUs, 50);
    assert.equal(summary.idleUs, 30);
    const text = formatSummary([summary], 10, 5, 'test', { 'main thread': 4 });
    assert.match(text, /\| src\/scheduler\/dynamic-batcher\.js \| 3\.0 \| 60\.0 \| 2\.4 \|/);
    assert.match(text, /sampled busy 5\.0 µs per request, idle 3\.0; \/proc CPU 4\.0 µs per request/);
  });
});
