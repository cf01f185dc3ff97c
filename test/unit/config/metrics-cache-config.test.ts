import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../../src/config/load-config.js';
import type { ServerConfig } from '../../../src/config/server-config.js';

function config(...flags: string[]): ServerConfig & { warnings: readonly { flag: string; message: string }[] } {
  const command = loadConfig(['--model-repository=/models', ...flags], {});
  assert.equal(command.kind, 'run');
  return { ...command.config, warnings: command.warnings };
}

function refused(flags: string[], message: string | RegExp): void {
  assert.throws(() => loadConfig(['--model-repository=/models', ...flags], {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('--cache-config and --response-cache-byte-size', () => {
  it('reads Triton\'s local,size=<bytes>, the last one winning, and the deprecated flag', () => {
    assert.equal(config().cache, undefined);
    assert.deepEqual(config('--cache-config', 'local,size=1048576').cache, { sizeBytes: 1048576 });
    assert.deepEqual(config('--cache-config=local,size=10', '--cache-config=local,size=20').cache, { sizeBytes: 20 });
    const fromEnv = loadConfig(['--model-repository=/m'], { NEREID_CACHE_CONFIG: 'local,size=4096' });
    assert.deepEqual(fromEnv.kind === 'run' ? fromEnv.config.cache : undefined, { sizeBytes: 4096 });
    const deprecated = config('--response-cache-byte-size=2048');
    assert.deepEqual(deprecated.cache, { sizeBytes: 2048 });
    assert.match(deprecated.warnings.find((w) => w.flag === '--response-cache-byte-size')!.message, /read as --cache-config local,size=2048/);
    assert.equal(config('--response-cache-byte-size=0').cache, undefined, "0, Triton's default, is no cache");
  });

  it('refuses other caches, other keys and bad sizes, naming the entry', () => {
    refused(['--cache-config', 'redis,host=localhost'], "--cache-config redis,host=localhost cannot be honoured: Nereid has only the 'local' cache (in-process, LRU by bytes); 'redis' is not available");
    refused(['--cache-config', 'local,capacity=10'], "--cache-config local,capacity=10: the local cache has one setting, size=<bytes>; 'capacity' is unknown");
    refused(['--cache-config', 'local,size=0'], "invalid value 'local,size=0' for --cache-config: size must be a whole number of bytes, at least 1");
    refused(['--cache-config', 'local,size=1MB'], /size must be a whole number of bytes/);
    refused(['--cache-config', 'size=10'], "invalid value 'size=10' for --cache-config: expected <cache>,<key>=<value>, e.g. local,size=1048576");
  });
});

describe('metrics flags', () => {
  it('reads Triton\'s flags, and --allow-metrics=false turns host metrics off too', () => {
    const c = config('--allow-cpu-metrics=false', '--metrics-interval-ms=500', '--metrics-config', 'summary_latencies=true', '--metrics-config', 'summary_quantiles=0.5:0.05,0.99:0.001');
    assert.deepEqual([c.metrics.cpu, c.metrics.gpu, c.metrics.intervalMs, c.metrics.summaryLatencies, c.metrics.counterLatencies], [false, true, 500, true, true]);
    assert.deepEqual(c.metrics.summaryQuantiles, [{ quantile: 0.5, error: 0.05 }, { quantile: 0.99, error: 0.001 }]);
    assert.equal(config('--metrics-config=counter_latencies=false').metrics.counterLatencies, false);
    const off = config('--allow-metrics=false');
    assert.deepEqual([off.metrics.cpu, off.metrics.gpu], [false, false]);
    assert.deepEqual(c.warnings, []);
  });

  it('refuses unknown settings and malformed values, naming the entry', () => {
    refused(['--metrics-config', 'summary_latencies=yes'], "invalid value 'summary_latencies=yes' for --metrics-config: summary_latencies takes true or false");
    refused(['--metrics-config', 'histogram_latencies=true'], "invalid value 'histogram_latencies=true' for --metrics-config: the settings are counter_latencies, summary_latencies and summary_quantiles");
    refused(['--metrics-config', 'summary_quantiles=0.5'], /summary_quantiles takes <quantile>:<error> pairs/);
    refused(['--metrics-config', 'summary_quantiles=1.5:0.1'], /summary_quantiles takes <quantile>:<error> pairs/);
    refused(['--metrics-interval-ms=0'], "invalid value '0' for --metrics-interval-ms: expected an integer from 1 to 2147483647");
  });
});
