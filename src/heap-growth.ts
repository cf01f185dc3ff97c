/**
 * How far V8 lets the main isolate's old generation grow past its live size before the next full
 * collection (mark-compact), set once at start-up by main.ts.
 *
 * V8 counts external memory (ArrayBuffer backing stores) allocated since the last mark-compact
 * against the old generation's limit. Every large response leaves one dead copy of itself outside
 * the heap: grpc-js frames each message into a new Buffer (a 1 MB response makes a 1 MB buffer),
 * and young backing stores are freed only by the next scavenge, which V8 starts for them when
 * they reach about 32 MB. Under load that external figure rises and falls by tens of MB. V8 sizes
 * the limit from the old generation's own allocation rate, which is low in a server whose objects
 * die young, so after a full collection under load it leaves about 8-10 MB of room: the external
 * sawtooth crosses it at once, the next collection sets the same tight limit, and the main thread
 * marks its whole heap about every 100 ms for as long as the load lasts (ocr_rec at c=4: 300
 * mark-compacts in 40 s, 20% less throughput; docs/performance.md). A growing factor of 3 leaves
 * room above the sawtooth (the same load: 4-12 mark-compacts, start-up's included), at the price of an old generation
 * that may reach three times its live size before it is collected.
 */
import { setFlagsFromString } from 'node:v8';

/** V8's `--heap-growing-percent`: the limit is live size × (1 + percent / 100). */
export const HEAP_GROWING_PERCENT = 200;

/** What start-up did: set Nereid's percent, or left the one node was started with. */
export type HeapGrowth = { readonly source: 'nereid'; readonly percent: number } | { readonly source: 'operator'; readonly flag: string };

/**
 * Applies Nereid's growing factor unless the operator chose one on node's command line
 * (`node --heap-growing-percent=N dist/main.js`), which then stands. V8 reads the flag each time
 * it computes a limit, so setting it after start-up takes effect at the next collection.
 */
export function applyHeapGrowth(execArgv: readonly string[], set: (flags: string) => void = setFlagsFromString): HeapGrowth {
  const chosen = execArgv.find((arg) => /^--(no-)?heap[-_]growing[-_]percent(=|$)/.test(arg));
  if (chosen !== undefined) return { source: 'operator', flag: chosen };
  set(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return { source: 'nereid', percent: HEAP_GROWING_PERCENT };
}
