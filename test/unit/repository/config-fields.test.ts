import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CONFIG_FIELDS, checkConfigFields, fieldPaths, fieldTreatment, setFieldPaths } from '../../../src/repository/config-fields.js';
import { ModelConfigError } from '../../../src/repository/config-error.js';
import { parseModelConfigText } from '../../../src/repository/config-text.js';

const BASE = 'name: "m"\nbackend: "onnxruntime"\nmax_batch_size: 4\n';

describe('config-fields', () => {
  it('classifies every field of ModelConfig, walking the descriptor', () => {
    const paths = fieldPaths();
    assert.ok(paths.length > 150, `only ${paths.length} paths walked`);
    const unclassified = paths.filter((p) => fieldTreatment(p) === undefined);
    assert.deepEqual(unclassified, [], `classify these fields in CONFIG_FIELDS (src/repository/config-fields.ts): ${unclassified.join(', ')}`);
  });

  it('has no entry for a field that does not exist', () => {
    const paths = new Set(fieldPaths());
    assert.deepEqual([...CONFIG_FIELDS.keys()].filter((p) => !paths.has(p)), []);
  });

  it('an acted-on message does not cover its children', () => {
    assert.equal(fieldTreatment('dynamic_batching.no_such_field'), undefined);
    assert.equal(fieldTreatment('instance_group.rate_limiter.resources.count')?.treatment, 'warned');
  });

  it('finds the fields a config sets, inside lists, maps and oneofs', () => {
    const config = parseModelConfigText(
      `${BASE}instance_group [{ count: 1, rate_limiter { priority: 2 } }]\n` +
        'model_warmup [{ name: "w", batch_size: 1, inputs { key: "x", value: { data_type: TYPE_FP32, dims: [1], zero_data: true } } }]\n' +
        'version_policy { all {} }\n',
    );
    const set = setFieldPaths(config);
    for (const path of ['instance_group.rate_limiter.priority', 'model_warmup.inputs.zero_data', 'version_policy.all', 'max_batch_size']) {
      assert.ok(set.has(path), `${path} not found in ${[...set].join(', ')}`);
    }
    assert.ok(!set.has('dynamic_batching'));
  });

  it('warns once per ignored field, naming it', () => {
    const config = parseModelConfigText(
      `${BASE}instance_group [{ count: 1, rate_limiter { priority: 2, resources [{ name: "r", count: 1 }] } }, { count: 1, rate_limiter { priority: 1 } }]\n` +
        'model_repository_agents { agents [{ name: "checksum" }] }\n' +
        'input [{ name: "x", data_type: TYPE_FP32, dims: [-1], allow_ragged_batch: true }]\n',
    );
    const warnings = checkConfigFields(config);
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings.join('\n'), /config field instance_group\.rate_limiter is not acted on: Nereid has no rate limiter/);
    assert.match(warnings.join('\n'), /config field model_repository_agents is not acted on/);
    assert.match(warnings.join('\n'), /config field input\.allow_ragged_batch is not acted on/);
  });

  it('says nothing about fields it acts on', () => {
    const config = parseModelConfigText(`${BASE}dynamic_batching { max_queue_delay_microseconds: 100 }\ninstance_group [{ kind: KIND_CPU, count: 2 }]\n`);
    assert.deepEqual(checkConfigFields(config), []);
  });

  it('refuses a field whose absence changes results, with the reason', () => {
    const config = parseModelConfigText(`${BASE}model_operations { op_library_filename: ["libcustom.so"] }\n`);
    assert.throws(() => checkConfigFields(config), (err: Error) => {
      assert.ok(err instanceof ModelConfigError);
      assert.match(err.message, /^model 'm': model_operations is not supported: onnxruntime-node cannot load custom operator libraries/);
      return true;
    });
    const ensemble = parseModelConfigText('name: "e"\nplatform: "ensemble"\nensemble_scheduling { step [{ model_name: "a", model_version: -1 }] }\n');
    assert.throws(() => checkConfigFields(ensemble), /model 'e': ensemble_scheduling is not supported: Nereid does not run ensembles/);
  });

  it('docs/model-config-fields.md lists every field with its treatment', () => {
    const doc = readFileSync(new URL('../../../docs/model-config-fields.md', import.meta.url), 'utf8');
    for (const [path, rule] of CONFIG_FIELDS) {
      const row = rule.treatment === 'acted' ? `\`${path}\`` : `| \`${path}\` | ${rule.treatment} | ${rule.why} |`;
      assert.ok(doc.includes(row), `docs/model-config-fields.md lacks ${row}`);
    }
  });
});
