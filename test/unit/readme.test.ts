import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
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

  it('links nothing outside the repository, nor do docs/ and deploy/README.md', () => {
    const docs = readdirSync(new URL('../../docs/', import.meta.url)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
    for (const file of ['README.md', 'deploy/README.md', ...docs]) {
      const text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
      const depth = file.split('/').length - 1;
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)) {
        if (/^https?:\/\//.test(target!)) continue;
        const up = target!.split('/').filter((part) => part === '..').length;
        assert.ok(up <= depth, `${file} links ${target}, outside the repository`);
        assert.ok(existsSync(new URL(`../../${path.posix.join(path.posix.dirname(file), target!)}`, import.meta.url)), `${file} links ${target}, which does not exist`);
      }
      assert.doesNotMatch(text, /ARCHITECTURE\.md|\.\.\/shared/, `${file} points at a design file outside the repository`);
    }
  });

  it('names the npm scripts it tells people to run', () => {
    for (const name of new Set([...README.matchAll(/npm run ([a-z:]+)/g)].map((m) => m[1]!))) {
      assert.ok(scripts[name] !== undefined, `README mentions npm run ${name}, which package.json lacks`);
    }
    assert.match(scripts['start']!, /--model-repository models --grpc-port 8001/);
  });
});
