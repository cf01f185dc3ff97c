/**
 * Entry point of the worker thread that builds a model version's precision variants at
 * load: graph transforms, calibration and accuracy runs all block their thread, so none
 * of it runs on the main thread. Posts log lines, then the result or the failure.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { detectBuildHost } from './build-host.js';
import { buildVariants } from './variant-build.js';
import type { VariantBuildJob } from '../core/precision.js';
import type { FromVariantBuild } from './variant-build-messages.js';

const port = parentPort;
if (port === null) throw new Error('variant-build-entry must run in a worker thread');
const post = (message: FromVariantBuild) => port.postMessage(message);

const job = workerData as VariantBuildJob;
detectBuildHost(job.precisions.includes('int8'))
  .then((host) => buildVariants(job, (level, message) => post({ type: 'log', level, message }), host))
  .then((result) => post({ type: 'built', result }))
  .catch((err: unknown) => post({ type: 'build-failed', message: err instanceof Error ? err.message : String(err) }))
  .finally(() => port.close());
