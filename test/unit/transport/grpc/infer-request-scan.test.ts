import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InferError } from '../../../../src/core/errors.js';
import type { RequestLimits } from '../../../../src/core/request-limits.js';
import { ModelInferRequest } from '../../../../src/generated/grpc_service.js';
import { scanInferRequest } from '../../../../src/transport/grpc/infer-request-scan.js';

const LIMITS: RequestLimits = { maxMessageBytes: 1 << 20, maxInputs: 4, maxTensorElements: 1000, maxTypedElements: 1000, maxBytesElementBytes: 10, maxNameBytes: 16 };

type Partial = Parameters<typeof ModelInferRequest.fromPartial>[0];
const encode = (request: Partial) => ModelInferRequest.encode(ModelInferRequest.fromPartial(request)).finish();
const input = (name: string, shape: bigint[], extra: Record<string, unknown> = {}) => ({ name, datatype: 'INT32', shape, ...extra });

function refuses(bytes: Uint8Array, id: 'REQUEST_LIMIT' | 'REQUEST_MALFORMED', message: string | RegExp, limits: RequestLimits = LIMITS): void {
  assert.throws(
    () => scanInferRequest(bytes, limits),
    (err: unknown) => {
      assert.ok(err instanceof InferError, String(err));
      assert.equal(err.id, id);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe('scanInferRequest', () => {
  it('lets a request within every limit through, at each limit exactly', () => {
    scanInferRequest(
      encode({
        modelName: 'm'.repeat(16),
        id: 'i'.repeat(16),
        parameters: { a: { parameterChoice: { $case: 'int64Param', value: 1n } } },
        inputs: [
          input('A', [10n, 100n]),
          input('B', [2n, 5n], { contents: { intContents: Array.from({ length: 1000 }, (_, i) => i) } }),
          input('C', [2n], { datatype: 'BYTES', contents: { bytesContents: [new Uint8Array(10), new Uint8Array(0)] } }),
          input('D', [-1n, 1n << 40n]),
        ],
        outputs: [{ name: 'X' }, { name: 'Y' }, { name: 'Z' }, { name: 'W' }],
        rawInputContents: [new Uint8Array(4000), new Uint8Array(0)],
      }),
      LIMITS,
    );
    scanInferRequest(new Uint8Array(0), LIMITS);
  });

  it('counts inputs, outputs, raw contents and parameters each against max inputs', () => {
    const five = Array.from({ length: 5 }, (_, i) => `n${i}`);
    refuses(encode({ inputs: five.map((n) => input(n, [1n])) }), 'REQUEST_LIMIT', 'the request has more than 4 inputs, the most this server takes (--max-request-inputs)');
    refuses(encode({ outputs: five.map((name) => ({ name })) }), 'REQUEST_LIMIT', 'the request asks for more than 4 outputs, the most this server takes (--max-request-inputs)');
    refuses(encode({ rawInputContents: five.map(() => new Uint8Array(1)) }), 'REQUEST_LIMIT', 'the request has more than 4 raw_input_contents entries, the most this server takes (--max-request-inputs)');
    const params = Object.fromEntries(five.map((n) => [n, { parameterChoice: { $case: 'boolParam' as const, value: true } }]));
    refuses(encode({ parameters: params }), 'REQUEST_LIMIT', 'the request has more than 4 parameters, the most this server takes (--max-request-inputs)');
    refuses(encode({ inputs: [input('A', [1n], { parameters: params })] }), 'REQUEST_LIMIT', 'input 0 has more than 4 parameters, the most this server takes (--max-request-inputs)');
    refuses(encode({ outputs: [{ name: 'X', parameters: params }] }), 'REQUEST_LIMIT', 'requested output 0 has more than 4 parameters, the most this server takes (--max-request-inputs)');
  });

  it('bounds every name by its UTF-8 bytes', () => {
    const long = 'é'.repeat(9); // 18 bytes
    const expect = (what: string) => `${what} is 18 bytes long; this server takes at most 16 (--max-request-name-bytes)`;
    refuses(encode({ modelName: long }), 'REQUEST_LIMIT', expect('the model name'));
    refuses(encode({ modelVersion: long }), 'REQUEST_LIMIT', expect('the model version'));
    refuses(encode({ id: long }), 'REQUEST_LIMIT', expect('the request id'));
    refuses(encode({ inputs: [input('A', [1n]), input(long, [1n])] }), 'REQUEST_LIMIT', expect('the name of input 1'));
    refuses(encode({ inputs: [input('A', [1n], { datatype: long })] }), 'REQUEST_LIMIT', expect('the datatype of input 0'));
    refuses(encode({ outputs: [{ name: long }] }), 'REQUEST_LIMIT', expect('the name of requested output 0'));
    refuses(encode({ parameters: { [long]: { parameterChoice: { $case: 'boolParam', value: true } } } }), 'REQUEST_LIMIT', expect('the key of a request parameter'));
    refuses(encode({ inputs: [input('A', [1n], { parameters: { [long]: {} } })] }), 'REQUEST_LIMIT', expect('the key of a parameter of input 0'));
  });

  it('bounds the dims and elements of a shape, leaving negative dims to validation', () => {
    refuses(encode({ inputs: [input('A', new Array(65).fill(1n))] }), 'REQUEST_LIMIT', "input 'A' has more than 64 dims; a tensor may have at most 64");
    scanInferRequest(encode({ inputs: [input('A', new Array(64).fill(1n))] }), LIMITS);
    refuses(encode({ inputs: [input('A', [10n, 101n])] }), 'REQUEST_LIMIT', "input 'A' has a shape of 1010 elements; this server takes at most 1000 (--max-tensor-elements)");
    refuses(encode({ inputs: [input('A', [1n << 62n, 1n << 62n])] }), 'REQUEST_LIMIT', "input 'A' has a shape of more than 2^53 elements; this server takes at most 1000 (--max-tensor-elements)");
    scanInferRequest(encode({ inputs: [input('A', [-1n, 1n << 62n])] }), LIMITS);
    scanInferRequest(encode({ inputs: [input('A', [0n, 1n << 62n])] }), LIMITS);
  });

  it('reads shapes and contents written one element per field (unpacked) as well as packed', () => {
    // input { name: "A" shape: 2000 (unpacked, field 3 varint) }
    const unpackedShape = Uint8Array.from([0x2a, 0x06, 0x0a, 0x01, 0x41, 0x18, 0xd0, 0x0f]);
    refuses(unpackedShape, 'REQUEST_LIMIT', "input 'A' has a shape of 2000 elements; this server takes at most 1000 (--max-tensor-elements)");
    // contents { int_contents: 1, 1 } unpacked (field 2 varint, twice)
    const unpackedContents = Uint8Array.from([0x2a, 0x09, 0x0a, 0x01, 0x41, 0x2a, 0x04, 0x10, 0x01, 0x10, 0x01]);
    scanInferRequest(unpackedContents, LIMITS);
    scanInferRequest(unpackedContents, { ...LIMITS, maxTypedElements: 2 });
    refuses(unpackedContents, 'REQUEST_LIMIT', "the typed contents of input 'A' have more than 1 elements, the most this server takes (--max-typed-elements)", { ...LIMITS, maxTypedElements: 1 });
  });

  it('counts typed contents of every kind, all fields together, and bounds each BYTES element', () => {
    const over = (contents: Record<string, unknown>) => encode({ inputs: [input('A', [1n], { contents })] });
    const message = "the typed contents of input 'A' have more than 1000 elements, the most this server takes (--max-typed-elements)";
    for (const field of ['boolContents', 'intContents', 'int64Contents', 'uintContents', 'uint64Contents', 'fp32Contents', 'fp64Contents']) {
      const value = field === 'boolContents' ? true : field.includes('64Contents') && !field.startsWith('fp') ? 1n : 1;
      refuses(over({ [field]: new Array(1001).fill(value) }), 'REQUEST_LIMIT', message);
      scanInferRequest(over({ [field]: new Array(1000).fill(value) }), LIMITS);
    }
    refuses(over({ intContents: new Array(600).fill(300), fp32Contents: new Array(401).fill(1) }), 'REQUEST_LIMIT', message);
    refuses(over({ bytesContents: new Array(1001).fill(new Uint8Array(0)) }), 'REQUEST_LIMIT', message);
    refuses(
      over({ bytesContents: [new Uint8Array(2), new Uint8Array(11)] }),
      'REQUEST_LIMIT',
      "a BYTES element in the contents of input 'A' is 11 bytes long; this server takes at most 10 (--max-bytes-element-bytes)",
    );
  });

  it('bounds each raw BYTES element, pairing raw entries with the inputs that take one, as the codec does', () => {
    const element = (length: number) => Buffer.concat([Buffer.from(Uint32Array.of(length).buffer), Buffer.alloc(length)]);
    const raw = (...lengths: number[]) => Buffer.concat(lengths.map(element));
    const bytesInput = (name: string, extra: Record<string, unknown> = {}) => ({ name, datatype: 'BYTES', shape: [2n], ...extra });
    scanInferRequest(encode({ inputs: [bytesInput('A')], rawInputContents: [raw(10, 0)] }), LIMITS);
    refuses(
      encode({ inputs: [bytesInput('A')], rawInputContents: [raw(3, 11)] }),
      'REQUEST_LIMIT',
      "BYTES element 1 of input 'A' is 11 bytes long; this server takes at most 10 (--max-bytes-element-bytes)",
    );
    // A (typed) and B (shared memory) take no raw entry: the first raw entry is C's, the second D's.
    const inputs = [
      bytesInput('A', { contents: { bytesContents: [new Uint8Array(1)] } }),
      bytesInput('B', { parameters: { shared_memory_region: { parameterChoice: { $case: 'stringParam', value: 'r' } } } }),
      input('C', [100n]),
      bytesInput('D'),
    ];
    const longerNames = { ...LIMITS, maxNameBytes: 32 };
    refuses(encode({ inputs, rawInputContents: [new Uint8Array(400).fill(0xff), raw(12)] }), 'REQUEST_LIMIT', /^BYTES element 0 of input 'D' is 12 bytes long/, longerNames);
    scanInferRequest(encode({ inputs, rawInputContents: [new Uint8Array(400).fill(0xff), raw(10)] }), longerNames);
    // A prefix cut short is validation's to report.
    scanInferRequest(encode({ inputs: [bytesInput('A')], rawInputContents: [Uint8Array.of(1, 0)] }), LIMITS);
  });

  it('refuses a message that is not protobuf wire format, saying where', () => {
    const prefix = 'ModelInfer request does not parse as inference.ModelInferRequest: ';
    refuses(Uint8Array.from([0x3a, 0x64, 1, 2]), 'REQUEST_MALFORMED', `${prefix}field 7 (length-delimited, 100 bytes) runs past the end of its message (at byte 2)`);
    refuses(new Uint8Array(12).fill(0xff), 'REQUEST_MALFORMED', `${prefix}a varint is longer than 10 bytes (at byte 10)`);
    refuses(Uint8Array.from([0x08, 0x80]), 'REQUEST_MALFORMED', `${prefix}a varint runs past the end of its field (at byte 2)`);
    refuses(Uint8Array.from([0x00]), 'REQUEST_MALFORMED', `${prefix}field number 0 (at byte 1)`);
    refuses(Uint8Array.from([0x0b]), 'REQUEST_MALFORMED', `${prefix}field 1 has wire type 3, which proto3 messages do not use (at byte 1)`);
    refuses(Uint8Array.from([0x09, 1, 2]), 'REQUEST_MALFORMED', `${prefix}field 1 runs past the end of its message (at byte 1)`);
    // input { contents { fp32_contents: 3 bytes } }: a packed float field must be whole floats.
    refuses(Uint8Array.from([0x2a, 0x07, 0x2a, 0x05, 0x32, 0x03, 0, 0, 0]), 'REQUEST_MALFORMED', `${prefix}packed field 6 of the contents has 3 bytes, not a multiple of 4 (at byte 9)`);
    // input { contents { int_contents: [0x80] } }: a packed varint cut short.
    refuses(Uint8Array.from([0x2a, 0x05, 0x2a, 0x03, 0x12, 0x01, 0x80]), 'REQUEST_MALFORMED', `${prefix}packed field 2 of the contents ends inside a varint (at byte 7)`);
  });

  it('skips fields it does not know, as the decoder does', () => {
    // field 15 varint, field 16 fixed32, field 17 fixed64, field 18 bytes; then model_name.
    const unknown = Uint8Array.from([0x78, 0x05, 0x85, 0x01, 1, 2, 3, 4, 0x89, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x92, 0x01, 0x01, 0x00, 0x0a, 0x01, 0x6d]);
    scanInferRequest(unknown, LIMITS);
    assert.equal(ModelInferRequest.decode(unknown).modelName, 'm');
  });
});
