import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ModelConfigError } from '../../../src/repository/config-error.js';
import { materializeFiles, removeFiles } from '../../../src/repository/load-overrides.js';

const files = (entries: Record<string, string>) => new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]));

describe('materializeFiles', () => {
  it('writes the files into a fresh private directory', async () => {
    const dir = await materializeFiles('m', { config: '{}', files: files({ 'file:1/model.onnx': 'onnx', 'file:labels.txt': 'a' }) }, 100);
    try {
      assert.equal(readFileSync(`${dir}/1/model.onnx`, 'utf8'), 'onnx');
      assert.deepEqual(readdirSync(dir).sort(), ['1', 'labels.txt']);
    } finally {
      await removeFiles(dir);
    }
    assert.equal(existsSync(dir), false);
  });

  it('refuses unsafe paths, a missing config and too many bytes, writing nothing', async () => {
    const refused = async (overrides: Parameters<typeof materializeFiles>[1], max: number, message: RegExp) => {
      await assert.rejects(materializeFiles('m', overrides, max), (err: Error) => err instanceof ModelConfigError && message.test(err.message));
    };
    await refused({ files: files({ 'file:1/model.onnx': 'x' }) }, 100, /^Load parameter 'config' must be specified for model file override$/);
    for (const path of ['file:../x', 'file:/abs', 'file:1//x', 'file:1/./x', 'file:', 'file:a\\b', 'file:a\0b']) {
      await refused({ config: '{}', files: files({ [path]: 'x' }) }, 100, /the path must stay within model directory/);
    }
    await refused({ config: '{}', files: files({ [`file:${'a'.repeat(256)}`]: 'x' }) }, 100, /is longer than 255 bytes$/);
    await refused({ config: '{}', files: files({ 'file:a': '12', 'file:b': '34' }) }, 3, /hold 4 bytes, more than --model-override-max-bytes allows \(3\)$/);
    await refused({ config: '{}', files: files({ 'file:1': 'x', 'file:1/model.onnx': 'y' }) }, 100, /directory '1' has been created as a file$/);
  });
});
