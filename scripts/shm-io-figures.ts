/**
 * npx tsx scripts/shm-io-figures.ts
 *
 * What moving a tensor through a /dev/shm object costs the thread that does it, for the
 * sizes the bench's shared memory runs move (ocr-cls input 110,592 bytes, ocr-rec output
 * about 1 MB): positional read into a new buffer (what SystemSharedMemory.read does),
 * positional write, a plain memory copy of the same size for reference (the least a
 * received gRPC message costs), and, when MMAP_IO names an installed mmap-io package, the
 * copy out of and into a mapping of the same object. Prints microseconds per operation
 * (median of 7 runs of 200 operations).
 */
import { closeSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';

const SIZES = [110_592, 1_048_576];
const OPS = 200;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

function time(fn: () => void): number {
  for (let i = 0; i < 20; i++) fn();
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < OPS; i++) fn();
    runs.push(((performance.now() - t0) * 1000) / OPS);
  }
  return median(runs);
}

interface MmapIo {
  map(size: number, protection: number, flags: number, fd: number, offset?: number): Buffer;
  PROT_READ: number;
  PROT_WRITE: number;
  MAP_SHARED: number;
}

const mmapPath = process.env['MMAP_IO'];
const mmap = mmapPath !== undefined ? (createRequire(import.meta.url)(mmapPath) as MmapIo) : undefined;

const rows: string[] = ['bytes | pread into new buffer µs | pwrite µs | memcpy µs | mmap copy out µs | mmap copy in µs'];
for (const size of SIZES) {
  const file = `/dev/shm/nereid-shm-io-${process.pid}-${size}`;
  writeFileSync(file, Buffer.alloc(size, 7));
  const fd = openSync(file, 'r+');
  const source = Buffer.alloc(size, 3);
  const pread = time(() => {
    const bytes = Buffer.allocUnsafe(size);
    readSync(fd, bytes, 0, size, 0);
  });
  const pwrite = time(() => {
    writeSync(fd, source, 0, size, 0);
  });
  const memcpy = time(() => {
    const bytes = Buffer.allocUnsafe(size);
    source.copy(bytes);
  });
  let out = '—';
  let into = '—';
  if (mmap !== undefined) {
    const mapped = mmap.map(size, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0);
    out = time(() => {
      const bytes = Buffer.allocUnsafe(size);
      mapped.copy(bytes);
    }).toFixed(1);
    into = time(() => {
      source.copy(mapped);
    }).toFixed(1);
  }
  rows.push(`${size} | ${pread.toFixed(1)} | ${pwrite.toFixed(1)} | ${memcpy.toFixed(1)} | ${out} | ${into}`);
  closeSync(fd);
  rmSync(file);
}
process.stdout.write(`${rows.join('\n')}\n`);
