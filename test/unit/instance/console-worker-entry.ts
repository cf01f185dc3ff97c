/** A worker for worker-log.test.ts: logs the ways instance code does, then says it is done. */
import { parentPort } from 'node:worker_threads';
import { forwardConsole, workerLogger } from '../../../src/instance/worker-log.js';

const post = (message: unknown) => parentPort!.postMessage(message);
const logger = workerLogger(post);
forwardConsole(logger);
console.warn('removing requested execution provider "%s" from session options because it is not available: %s', 'webgpu', 'no adapter');
console.log({ answer: 42 });
console.error(new Error('boom').message);
logger.child({ variant: 'fp16' }).info({ loadMs: 12 }, 'session loaded');
logger.debug('plain text');
post({ type: 'done' });
