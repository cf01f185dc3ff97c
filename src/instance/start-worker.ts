import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Starts a model instance's worker thread on the worker entry module next to this one.
 * In the built server that is a `.js` file. Running from source under tsx (`npm test`,
 * `npm start`), it is `.ts`, and Node 20 does not apply tsx's loader to a worker's entry,
 * so a two-line bootstrap registers tsx inside the worker and then imports the entry.
 */
export function startWorker(options: WorkerOptions): Worker {
  const extension = path.extname(fileURLToPath(import.meta.url));
  const entry = new URL(`./worker-entry${extension}`, import.meta.url);
  if (extension !== '.ts') return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}
