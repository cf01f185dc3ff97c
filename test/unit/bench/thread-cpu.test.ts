import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { THREAD_TAG_PRELOAD, taggedWorkerTids, taskCpuSeconds, threadCpu } from '../../../scripts/bench/thread-cpu.js';

describe('per-thread CPU from /proc', () => {
  it('tags a worker thread from inside it, counts its CPU as worker time, and the groups add up', async () => {
    const tags = mkdtempSync(path.join(tmpdir(), 'thread-tags-'));
    try {
      // The preload as a measured server gets it. The worker says its own thread id, and on
      // request spins until it has used 100 ms of CPU itself, however busy the machine is.
      const worker = new Worker(
        `const { parentPort } = require('node:worker_threads');
         const { readFileSync, readlinkSync } = require('node:fs');
         const own = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e9;
         parentPort.postMessage(Number(readlinkSync('/proc/thread-self').split('/').at(-1)));
         parentPort.on('message', () => { const end = own() + 0.1; while (own() < end); parentPort.postMessage('done'); });`,
        { eval: true, execArgv: ['--require', THREAD_TAG_PRELOAD], env: { ...process.env, NEREID_THREAD_TAGS: tags } },
      );
      const [tid] = (await once(worker, 'message')) as [number];
      // Under tsx, a loader thread may be tagged too; the worker itself must be.
      assert.ok(taggedWorkerTids(tags).has(tid), `worker ${tid} tagged: ${[...taggedWorkerTids(tags)]}`);
      assert.ok(!taggedWorkerTids(tags).has(process.pid), 'the main thread is never a worker');
      const before = taskCpuSeconds(process.pid, tid)!;
      worker.postMessage('go');
      await once(worker, 'message');
      // The worker is idle now (its listener keeps it alive): its time stays put while the groups are read.
      const own = taskCpuSeconds(process.pid, tid)!;
      const tagged = threadCpu(process.pid, tags)!;
      const untagged = threadCpu(process.pid)!;
      await worker.terminate();
      assert.ok(own - before >= 0.1 && own - before < 5, `the worker's spinning is its own CPU: ${own - before}`);
      assert.ok(tagged.workersSec >= own, `tagged, it counts as worker time: ${tagged.workersSec} < ${own}`);
      assert.equal(untagged.workersSec, 0, 'untagged, no thread is a worker');
      assert.ok(untagged.otherSec >= own, 'and its time is among the other threads');
      assert.ok(Math.abs(tagged.mainSec + tagged.workersSec + tagged.otherSec - tagged.totalSec) < 1e-9);
      assert.equal(threadCpu(2 ** 30, tags), null, 'a process that is not there');
    } finally {
      rmSync(tags, { recursive: true, force: true });
    }
  });
});
