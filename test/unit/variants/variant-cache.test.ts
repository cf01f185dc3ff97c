import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { readCacheEntry, writeCacheEntry } from '../../../src/variants/variant-cache.js';

describe('variant cache', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'nereid-cache-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const files = new Map([['int8-u8s8', new Uint8Array([1, 2, 3])]]);
  const figures = { int8: [{ speedup: 2, int8Format: 'u8s8' as const }] };
  const log = () => {};

  it('lets concurrent writers of one entry (servers sharing a repository) all end with the complete entry', async () => {
    const cacheDir = path.join(root, 'a');
    const entries = await Promise.all([1, 2, 3].map(() => writeCacheEntry(cacheDir, 'h1', files, figures, 'test cpu', log)));
    assert.deepEqual(new Set(entries), new Set([path.join(cacheDir, 'h1')]));
    assert.deepEqual(readdirSync(cacheDir), ['h1'], 'no staging folders left behind');
    const read = await readCacheEntry(cacheDir, 'h1');
    assert.deepEqual(read?.figures, figures);
  });

  it('replaces an incomplete entry, and treats a missing variant file as no entry', async () => {
    const cacheDir = path.join(root, 'b');
    await writeCacheEntry(cacheDir, 'h2', files, figures, 'test cpu', log);
    rmSync(path.join(cacheDir, 'h2', 'int8-u8s8.onnx'));
    assert.equal(await readCacheEntry(cacheDir, 'h2'), undefined);
    writeFileSync(path.join(cacheDir, 'h2', 'stray'), '');
    await writeCacheEntry(cacheDir, 'h2', files, figures, 'test cpu', log);
    assert.deepEqual(readdirSync(path.join(cacheDir, 'h2')).sort(), ['figures.json', 'int8-u8s8.onnx']);
  });
});
