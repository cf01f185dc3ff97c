import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { envName, OPTIONS } from '../../src/config/options.js';
import { TRITON_FLAGS } from '../../src/config/triton-flags.js';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const scripts = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;

describe('README stays true', () => {
  it('documents every flag with its environment variable', () => {
    for (const option of OPTIONS) {
      assert.ok(README.includes(`| \`--${option.name}\``), `--${option.name} is missing from the flag table`);
      assert.ok(README.includes(`\`${envName(option)}\``), `${envName(option)} is missing from the flag table`);
    }
  });

  it('names every tritonserver flag it accepts without an option of its own', () => {
    for (const name of TRITON_FLAGS.keys()) assert.ok(README.includes(`--${name}`), `--${name} is missing from "Triton command lines"`);
  });

  it('links nothing outside the repository', () => {
    for (const [, target] of README.matchAll(/\]\(([^)#]+)[^)]*\)/g)) {
      assert.ok(/^https?:\/\//.test(target!) || !target!.startsWith('..'), `README links ${target}, outside the repository`);
    }
    assert.doesNotMatch(README, /ARCHITECTURE\.md|\.\.\/shared|shared\//, 'README points at a design file outside the repository');
  });

  it('names the npm scripts it tells people to run', () => {
    for (const name of new Set([...README.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1]!))) {
      assert.ok(scripts[name] !== undefined, `README mentions npm run ${name}, which package.json lacks`);
    }
    assert.match(scripts['start']!, /--model-repository models --grpc-port 8001/);
  });
});
