import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  countBytesElements,
  elementCount,
  formatShape,
  SHAPE_MAX_DIMS,
  joinBytesElements,
  sliceBytesElements,
  splitBytesElements,
} from '../../../src/core/tensor.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Serialized BYTES tensor built by hand (not through joinBytesElements). */
function serialized(...elements: string[]): Uint8Array {
  const parts = elements.map(utf8);
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const view = new DataView(out.buffer);
  let offset = 0;
  for (const part of parts) {
    view.setUint32(offset, part.byteLength, true);
    out.set(part, offset + 4);
    offset += 4 + part.byteLength;
  }
  return out;
}

describe('elementCount', () => {
  it('multiplies the dims', () => {
    assert.equal(elementCount([2, 3, 4]), 24);
    assert.equal(elementCount([16]), 16);
  });

  it('treats an empty shape as a scalar', () => {
    assert.equal(elementCount([]), 1);
  });

  it('is 0 when a dim is 0', () => {
    assert.equal(elementCount([4, 0, 7]), 0);
  });

  it('returns -1 when the product passes Number.MAX_SAFE_INTEGER', () => {
    assert.equal(elementCount([2 ** 30, 2 ** 30]), -1);
    assert.equal(elementCount([2 ** 53, 2]), -1);
    assert.equal(elementCount([2 ** 26, 2 ** 26]), 2 ** 52);
  });

  it('is 0, not -1, when a later dim is 0 after a huge prefix', () => {
    assert.equal(elementCount([2 ** 40, 2 ** 40, 0]), 0);
  });
});

describe('formatShape', () => {
  it("prints dims like Triton's DimsListToString: no spaces", () => {
    assert.equal(formatShape([1, 16]), '[1,16]');
    assert.equal(formatShape([-1, 16]), '[-1,16]');
  });

  it('prints an empty shape as []', () => {
    assert.equal(formatShape([]), '[]');
  });

  it('accepts bigint dims', () => {
    assert.equal(formatShape([3n, 9223372036854775807n]), '[3,9223372036854775807]');
  });

  it('prints the first SHAPE_MAX_DIMS dims of a client-sized shape and how many more', () => {
    const dims = Array.from({ length: 10_000 }, () => 1);
    assert.equal(formatShape(dims), `[${dims.slice(0, SHAPE_MAX_DIMS).join(',')}, and ${10_000 - SHAPE_MAX_DIMS} more]`);
    assert.equal(formatShape(dims.slice(0, SHAPE_MAX_DIMS)), `[${dims.slice(0, SHAPE_MAX_DIMS).join(',')}]`);
  });
});

describe('countBytesElements', () => {
  it('counts length-prefixed elements, empty ones included', () => {
    assert.equal(countBytesElements(serialized('a', '', 'hello')), 3);
  });

  it('is 0 for no data', () => {
    assert.equal(countBytesElements(new Uint8Array(0)), 0);
  });

  it('returns -1 for a truncated length prefix', () => {
    const data = new Uint8Array([...serialized('ab'), 1, 0]);
    assert.equal(countBytesElements(data), -1);
  });

  it('returns -1 when a length runs past the end', () => {
    const data = serialized('abc').subarray(0, 6);
    assert.equal(countBytesElements(data), -1);
  });

  it('reads a view at a non-zero offset correctly', () => {
    const whole = new Uint8Array([9, 9, 9, ...serialized('x', 'yz')]);
    assert.equal(countBytesElements(whole.subarray(3)), 2);
  });
});

describe('splitBytesElements', () => {
  it('returns each element as a view over the data', () => {
    const data = serialized('one', '', 'three');
    const parts = splitBytesElements(data);
    assert.deepEqual(parts.map(text), ['one', '', 'three']);
    for (const part of parts) assert.equal(part.buffer, data.buffer);
  });

  it('is empty for no data', () => {
    assert.deepEqual(splitBytesElements(new Uint8Array(0)), []);
  });

  it('works on a view at an offset', () => {
    const whole = new Uint8Array([7, ...serialized('ab', 'c')]);
    assert.deepEqual(splitBytesElements(whole.subarray(1)).map(text), ['ab', 'c']);
  });

  it('on malformed data (assumed well formed) ignores trailing bytes and clamps an overrun', () => {
    // Not a contract callers may rely on for validation; recorded so that a change is noticed.
    assert.deepEqual(splitBytesElements(new Uint8Array([...serialized('ab'), 1, 2])).map(text), ['ab']);
    assert.deepEqual(splitBytesElements(serialized('abcd').subarray(0, 6)).map(text), ['ab']);
  });
});

describe('joinBytesElements', () => {
  it('writes a 4-byte little-endian length before each element', () => {
    const out = joinBytesElements([utf8('hi'), new Uint8Array(0), utf8('xyz')]);
    assert.deepEqual([...out], [2, 0, 0, 0, 104, 105, 0, 0, 0, 0, 3, 0, 0, 0, 120, 121, 122]);
  });

  it('returns an empty buffer for no elements', () => {
    assert.equal(joinBytesElements([]).byteLength, 0);
  });

  it('handles lengths above 255 in little-endian order', () => {
    const out = joinBytesElements([new Uint8Array(0x0102)]);
    assert.deepEqual([...out.subarray(0, 4)], [0x02, 0x01, 0, 0]);
    assert.equal(out.byteLength, 4 + 0x0102);
  });

  it('round-trips with splitBytesElements and countBytesElements', () => {
    const elements = ['', 'a', 'bc', '\u0000nul', 'ünïcødé'].map(utf8);
    const joined = joinBytesElements(elements);
    assert.equal(countBytesElements(joined), elements.length);
    assert.deepEqual(splitBytesElements(joined), elements);
  });

  it('accepts element views at offsets', () => {
    const backing = utf8('--abc--');
    const joined = joinBytesElements([backing.subarray(2, 5)]);
    assert.deepEqual(splitBytesElements(joined).map(text), ['abc']);
  });
});

describe('sliceBytesElements', () => {
  const data = serialized('a', 'bb', '', 'dddd');

  it('returns the serialized bytes of elements [first, first + count)', () => {
    assert.deepEqual(splitBytesElements(sliceBytesElements(data, 1, 2)).map(text), ['bb', '']);
    assert.deepEqual(splitBytesElements(sliceBytesElements(data, 3, 1)).map(text), ['dddd']);
    assert.deepEqual(sliceBytesElements(data, 0, 4), data);
  });

  it('is a view over the same buffer', () => {
    const slice = sliceBytesElements(data, 1, 1);
    assert.equal(slice.buffer, data.buffer);
    assert.equal(slice.byteOffset, data.byteOffset + 5);
    assert.equal(slice.byteLength, 6);
  });

  it('is empty for count 0, and at the end of the data', () => {
    assert.equal(sliceBytesElements(data, 2, 0).byteLength, 0);
    assert.equal(sliceBytesElements(data, 4, 0).byteLength, 0);
  });

  it('works on a view at an offset', () => {
    const whole = new Uint8Array([1, 2, 3, ...data]);
    assert.deepEqual(splitBytesElements(sliceBytesElements(whole.subarray(3), 1, 3)).map(text), ['bb', '', 'dddd']);
  });

  it('slices concatenate back to the whole tensor', () => {
    const parts = [sliceBytesElements(data, 0, 1), sliceBytesElements(data, 1, 2), sliceBytesElements(data, 3, 1)];
    const rejoined = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
    let offset = 0;
    for (const p of parts) {
      rejoined.set(p, offset);
      offset += p.byteLength;
    }
    assert.deepEqual(rejoined, data);
  });

  it('throws rather than reading past the end when asked for more elements than exist', () => {
    assert.throws(() => sliceBytesElements(data, 3, 2), RangeError);
  });
});
