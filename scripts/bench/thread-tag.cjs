/**
 * Preloaded into a measured server (`node --require scripts/bench/thread-tag.cjs ...`): Node
 * runs --require preloads in every worker thread too, so each JavaScript thread writes its
 * Linux thread id to $NEREID_THREAD_TAGS/<tid>. Node names no thread (every /proc comm is
 * "node"), so this is how the benchmark tells the main thread and the instance workers apart
 * from the other threads (V8's platform and GC helpers, libuv's pool, ONNX Runtime's pool).
 * CommonJS and plain JavaScript: it preloads into the built server without a TypeScript
 * loader, and --require (unlike --import, which skipped some workers in Node 20) runs
 * synchronously before each thread's entry.
 */
'use strict';
const { mkdirSync, readlinkSync, writeFileSync } = require('node:fs');
const { isMainThread, threadId } = require('node:worker_threads');

const dir = process.env.NEREID_THREAD_TAGS;
if (dir) {
  // /proc/thread-self links to <pid>/task/<tid> of the calling thread.
  const tid = readlinkSync('/proc/thread-self').split('/').at(-1);
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}/${tid}`, JSON.stringify({ tid: Number(tid), threadId, main: isMainThread }));
}
