import type { Logger } from '../core/logger.js';
import type { VariantBuildJob, VariantBuildResult } from '../core/precision.js';
import { startWorker, workerEntry } from '../instance/start-worker.js';
import type { FromVariantBuild } from './variant-build-messages.js';

/**
 * Builds (or finds in the cache) a model version's precision variants on a worker thread
 * of its own, which exits when done. Rejects with the reason when the build as a whole
 * fails (unreadable model or samples); a single precision that fails is in the result.
 */
export function buildVariantsInWorker(job: VariantBuildJob, logger: Logger): Promise<VariantBuildResult> {
  const worker = startWorker(workerEntry('variant-build-entry', import.meta.url), { workerData: job, name: `${job.model}-v${job.version}-variants` });
  return new Promise((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: FromVariantBuild) => {
      if (message.type === 'log') {
        logger[message.level](message.message);
      } else if (message.type === 'built') {
        settled = true;
        resolve(message.result);
      } else {
        settled = true;
        reject(new Error(`building precision variants failed: ${message.message}`));
      }
    });
    worker.on('error', (err) => {
      if (!settled) reject(new Error(`building precision variants failed: ${err.message}`));
      settled = true;
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`building precision variants failed: the build worker exited with code ${code}`));
      settled = true;
    });
  });
}
