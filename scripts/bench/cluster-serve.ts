/**
 * Several Nereid processes behind one port, with Node's cluster module: the primary forks
 * N workers that each run the server (its own event loop, models and instances) and listen
 * on the same port; the primary accepts each connection and hands it to the next worker in
 * turn. A measuring aid for the scaling check (scripts/bench/scaling.ts), not a serving mode.
 *
 *   node cluster-serve.js <processes> <server main.js> [server flags...]
 *
 * Prints JSON lines: {"msg":"cluster worker","pid":N} per worker, then
 * {"msg":"server is ready","port":P} once every worker is ready. SIGTERM stops the workers
 * (each stops gracefully) and then the primary.
 */
import cluster, { type Worker } from 'node:cluster';
import { createInterface } from 'node:readline';

const [count, main, ...args] = process.argv.slice(2);
const processes = Number(count);
if (!(processes >= 1) || main === undefined) {
  process.stderr.write('usage: cluster-serve <processes> <server main.js> [server flags...]\n');
  process.exit(2);
}
// Round-robin hand-off by the primary, the default everywhere but Windows; said so it stays.
cluster.schedulingPolicy = cluster.SCHED_RR;
// The workers get the primary's Node flags (a preload, --cpu-prof), and tsx only when they run
// the server from source: a built server should not pay for a loader it does not use.
const execArgv = main.endsWith('.ts')
  ? process.execArgv
  : process.execArgv.filter((arg, i, all) => !(arg === 'tsx' && all[i - 1] === '--import') && !(arg === '--import' && all[i + 1] === 'tsx'));
cluster.setupPrimary({ exec: main, args, execArgv, silent: true });
const say = (entry: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(entry)}\n`);
const workers: Worker[] = [];
let ready = 0;
let port: number | undefined;
for (let i = 0; i < processes; i++) {
  const worker = cluster.fork();
  workers.push(worker);
  say({ msg: 'cluster worker', pid: worker.process.pid });
  worker.process.stderr?.pipe(process.stderr);
  createInterface({ input: worker.process.stdout! }).on('line', (line) => {
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (entry['msg'] === 'gRPC endpoint listening') port = entry['port'] as number;
    if (entry['msg'] === 'server is ready' && ++ready === processes) say({ msg: 'server is ready', port });
    if (typeof entry['level'] === 'number' && entry['level'] >= 50) process.stdout.write(`${line}\n`);
  });
  worker.on('exit', (code) => {
    if (ready < processes) {
      say({ msg: 'cluster worker exited before it was ready', pid: worker.process.pid, code, level: 50 });
      process.exit(1);
    }
  });
}
process.once('SIGTERM', () => {
  let left = workers.filter((w) => !w.isDead()).length;
  if (left === 0) process.exit(0);
  for (const worker of workers) {
    worker.once('exit', () => --left === 0 && process.exit(0));
    worker.process.kill('SIGTERM');
  }
});
