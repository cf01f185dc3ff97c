import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { scratchDirectory, testRepository } from '../helpers/fixtures.js';
import { faultScale } from './fault-scale.js';

/**
 * An open-loop overload run with scripts/overload/run.ts: a server of its own (a child
 * process), the `slow` fixture at 300 loop iterations a request (a few hundred requests a
 * second on two instances, on most machines), offered 2,000 requests a second, so several
 * times what it can serve. Whatever the machine, the server must refuse the excess at
 * once with Triton's code and text for a full queue, answer everything else correctly,
 * hold no more than its queue bound, stay live, and compute correctly at the end.
 */
const SCRIPT = fileURLToPath(new URL('../../scripts/overload/run.ts', import.meta.url));
const QUEUE = 128;

interface Report {
  readonly answers: Record<string, number>;
  readonly firstDetails: Record<string, string>;
  readonly unanswered: number;
  readonly okPerSecDuringLoad: number;
  readonly refusedPerSecDuringLoad: number;
  readonly rssMiB: { start: number; peak: number; end: number };
  readonly liveAtEnd: boolean;
  readonly correctAtEnd: true | string;
}

describe('overload run: about 5x what the server can serve, open loop', () => {
  it('refuses the excess at once with UNAVAILABLE "Exceeds maximum queue size", serves the rest, stays live and correct', { timeout: 240_000 }, async (test) => {
    const json = path.join(scratchDirectory('overload-run'), 'report.json');
    const args = [
      '--import', 'tsx', SCRIPT,
      '--repository', await testRepository(), '--model', 'slow', '--delay', '300',
      '--rate', '2000', '--duration-s', String(5 * faultScale()), '--connections', '2',
      '--drain-limit-s', '60', '--settle-limit-s', '10', '--json', json,
      `--server-arg=--max-queue-size`, `--server-arg=${QUEUE}`,
    ];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, output);
    const report = JSON.parse(readFileSync(json, 'utf8')) as Report;
    test.diagnostic(output.trim().split('\n').slice(1, 7).join(' | '));

    assert.deepEqual(Object.keys(report.answers).sort(), ['OK', 'UNAVAILABLE'], `only answers and refusals: ${JSON.stringify(report.answers)}`);
    assert.equal(report.firstDetails['UNAVAILABLE'], '[request id: <id_unknown>] Exceeds maximum queue size');
    assert.equal(report.unanswered, 0, 'every call was answered');
    assert.ok(report.answers['UNAVAILABLE']! > report.answers['OK']!, `overloaded several times over: ${JSON.stringify(report.answers)}`);
    assert.equal(report.liveAtEnd, true);
    assert.equal(report.correctAtEnd, true);
    // A bounded queue of small requests: memory does not follow the offered load.
    assert.ok(report.rssMiB.peak - report.rssMiB.start < 400, `RSS ${JSON.stringify(report.rssMiB)}`);
  });
});
