import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LogMessage } from '../../../src/instance/messages.js';
import { startWorker } from '../../../src/instance/start-worker.js';

describe('worker logs', () => {
  it('reach the main thread as log messages: console output formatted, logger lines with their fields and child bindings', async () => {
    const worker = startWorker(new URL('./console-worker-entry.ts', import.meta.url), {});
    const messages: LogMessage[] = [];
    await new Promise<void>((resolve, reject) => {
      worker.on('message', (message: LogMessage | { type: 'done' }) => (message.type === 'done' ? resolve() : messages.push(message)));
      worker.on('error', reject);
    });
    await worker.terminate();
    assert.deepEqual(messages, [
      {
        type: 'log',
        level: 'warn',
        message: 'removing requested execution provider "webgpu" from session options because it is not available: no adapter',
        fields: { source: 'console' },
      },
      { type: 'log', level: 'info', message: '{ answer: 42 }', fields: { source: 'console' } },
      { type: 'log', level: 'error', message: 'boom', fields: { source: 'console' } },
      { type: 'log', level: 'info', message: 'session loaded', fields: { variant: 'fp16', loadMs: 12 } },
      { type: 'log', level: 'debug', message: 'plain text', fields: {} },
    ]);
  });
});
