import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ERROR_CATALOG, type ErrorId } from '../../../src/core/errors.js';

/**
 * Keeps docs/errors.md in step with ERROR_CATALOG (as fastify does for its error codes):
 * every id documented once, nothing documented that does not exist, codes agreeing.
 */
const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

interface Row {
  readonly id: string;
  readonly code: string;
  readonly when: string;
  readonly example: string;
}

/** Table rows whose first cell is a backquoted id. */
function documentedRows(markdown: string): Row[] {
  const rows: Row[] = [];
  for (const line of markdown.split('\n')) {
    const match = /^\|\s*`([A-Z0-9_]+)`\s*\|\s*`([A-Z_]+)`\s*\|(.*)\|(.*)\|\s*$/.exec(line);
    if (match === null) continue;
    rows.push({ id: match[1]!, code: match[2]!, when: match[3]!.trim(), example: match[4]!.trim() });
  }
  return rows;
}

const rows = documentedRows(DOC);
const catalogIds = Object.keys(ERROR_CATALOG) as ErrorId[];

describe('docs/errors.md', () => {
  it('has a table', () => {
    assert.ok(rows.length > 0, 'no rows of the form | `ID` | `CODE` | when | example | found');
  });

  it('documents every id in ERROR_CATALOG', () => {
    const documented = new Set(rows.map((r) => r.id));
    const missing = catalogIds.filter((id) => !documented.has(id));
    assert.deepEqual(missing, [], `ids missing from docs/errors.md: ${missing.join(', ')}`);
  });

  it('documents no id that ERROR_CATALOG lacks', () => {
    const unknown = rows.map((r) => r.id).filter((id) => !(id in ERROR_CATALOG));
    assert.deepEqual(unknown, [], `docs/errors.md lists ids that do not exist: ${unknown.join(', ')}`);
  });

  it('documents each id once', () => {
    const seen = new Set<string>();
    const twice = rows.map((r) => r.id).filter((id) => (seen.has(id) ? true : (seen.add(id), false)));
    assert.deepEqual(twice, []);
  });

  it('gives each id the gRPC code of its catalogue entry', () => {
    for (const row of rows) {
      if (!(row.id in ERROR_CATALOG)) continue;
      assert.equal(row.code, ERROR_CATALOG[row.id as ErrorId].code, `code of ${row.id}`);
    }
  });

  it('says when each error happens and gives an example message', () => {
    for (const row of rows) {
      assert.ok(row.when.length > 0, `${row.id}: empty "when" column`);
      assert.match(row.example, /^`.+`$/, `${row.id}: example message should be in backquotes`);
    }
  });
});
