import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundedList, clip, CLIENT_LIST_MAX_ITEMS, CLIENT_TEXT_MAX_CHARS, quote, quoteList } from '../../../src/core/client-text.js';

const N = CLIENT_TEXT_MAX_CHARS;

describe('quote', () => {
  it("quotes a short string whole, as Triton's messages do", () => {
    assert.equal(quote('INPUT0'), "'INPUT0'");
    assert.equal(quote(''), "''");
    assert.equal(quote('x'.repeat(N)), `'${'x'.repeat(N)}'`);
  });

  it('cuts a long string inside the quotes and says how long it was', () => {
    assert.equal(quote('a'.repeat(76_000)), `'${'a'.repeat(N)}…' (76000 characters)`);
    assert.equal(quote('x'.repeat(N + 1)), `'${'x'.repeat(N)}…' (${N + 1} characters)`);
  });

  it('takes a custom bound', () => {
    assert.equal(quote('abcdef', 3), "'abc…' (6 characters)");
    assert.equal(quote('abc', 3), "'abc'");
  });
});

describe('clip', () => {
  it('leaves a short string alone and cuts a long one without quotes', () => {
    assert.equal(clip('r7'), 'r7');
    assert.equal(clip('a'.repeat(76_000)), `${'a'.repeat(N)}… (76000 characters)`);
  });

  it('counts and cuts characters (code points), never splitting a surrogate pair', () => {
    const emoji = '😀'.repeat(N + 10); // 2 UTF-16 units each
    const cut = clip(emoji);
    assert.equal(cut, `${'😀'.repeat(N)}… (${N + 10} characters)`);
    assert.doesNotThrow(() => encodeURI(cut), 'encodeURI throws on a lone surrogate');
    // N emoji are 2N UTF-16 units but only N characters: not cut.
    assert.equal(clip('😀'.repeat(N)), '😀'.repeat(N));
    // A cut falling right after a high surrogate keeps the pair whole.
    assert.equal(clip(`ab😀cd`, 3), 'ab😀… (5 characters)');
    assert.equal(clip(`ab😀cd`, 2), 'ab… (5 characters)');
  });

  it('reads a long string once and returns a bounded result whatever its length', () => {
    for (const length of [N + 1, 10_000, 1_000_000]) {
      assert.ok(clip('z'.repeat(length)).length <= N + 40, `length ${length}`);
    }
  });
});

describe('quoteList', () => {
  it("lists a few names as Triton does: ['a','b']", () => {
    assert.equal(quoteList(['INPUT0', 'INPUT1']), "['INPUT0','INPUT1']");
    assert.equal(quoteList([]), '[]');
  });

  it('lists the first few of many names and says how many more', () => {
    const names = Array.from({ length: 10_000 }, (_, i) => `INPUT_${i}`);
    const shown = names.slice(0, CLIENT_LIST_MAX_ITEMS).map((n) => `'${n}'`).join(',');
    assert.equal(quoteList(names), `[${shown}, and ${10_000 - CLIENT_LIST_MAX_ITEMS} more]`);
  });

  it('cuts each long name too', () => {
    assert.equal(quoteList(['a'.repeat(500), 'b'], 1), `['${'a'.repeat(N)}…' (500 characters), and 1 more]`);
  });
});

describe('boundedList', () => {
  it('formats only the items it shows', () => {
    let formatted = 0;
    const out = boundedList(Array.from({ length: 100_000 }, (_, i) => i), 3, (i) => {
      formatted += 1;
      return String(i);
    });
    assert.equal(out, '[0,1,2, and 99997 more]');
    assert.equal(formatted, 3);
  });

  it('shows every item up to the bound', () => {
    assert.equal(boundedList([1, 2, 3], 3, String), '[1,2,3]');
  });
});
