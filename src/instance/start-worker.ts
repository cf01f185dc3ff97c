import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a worker thread on `entry`. A `.js` entry (the built server) starts directly. A
 * `.ts` entry (running from source under tsx, as `npm test` does) needs tsx's loader, which
 * Node 20 does not apply to a worker's entry module, so a two-line bootstrap registers
 * tsx inside the worker and then imports the entry.
 */
export function startWorker(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** The instance worker's entry module: next to this one, with the same extension. */
export function instanceWorkerEntry(): URL {
  return workerEntry('worker-entry', import.meta.url);
}

/**
 * A worker entry module named `name` beside the module at `moduleUrl` (pass the caller's
 * `import.meta.url`), with that module's extension: `.ts` from source, `.js` when built.
 */
export function workerEntry(name: string, moduleUrl: string): URL {
  const extension = moduleUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${name}${extension}`, moduleUrl);
}
