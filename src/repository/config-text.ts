import { createFileRegistry, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { fromText, toText } from '@bufbuild/protobuf/txtpb';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { ModelConfig } from '../generated/model_config.js';
import { MODEL_CONFIG_DESCRIPTOR_SET } from '../generated/model_config_descriptor.js';

let schema: DescMessage | undefined;

/** The ModelConfig message descriptor, built once from the generated descriptor set. */
export function modelConfigSchema(): DescMessage {
  if (schema !== undefined) return schema;
  const set = fromBinary(FileDescriptorSetSchema, Buffer.from(MODEL_CONFIG_DESCRIPTOR_SET, 'base64'));
  const found = createFileRegistry(set).getMessage('inference.ModelConfig');
  if (found === undefined) throw new Error('inference.ModelConfig missing from the generated descriptor set');
  schema = found;
  return schema;
}

/**
 * Parses a config.pbtxt (protobuf text format of inference.ModelConfig, Triton's syntax:
 * comments, `[ ... ]` lists, repeated messages, maps, enums) into the generated
 * ModelConfig type. The text is parsed by @bufbuild/protobuf against our own
 * model_config.proto, then moved to the ts-proto type through the binary encoding,
 * which both sides read identically. Throws the parser's message on bad syntax.
 */
export function parseModelConfigText(text: string): ModelConfig {
  const desc = modelConfigSchema();
  let message;
  try {
    message = fromText(desc, text);
  } catch (err) {
    throw new Error(`${locate(desc, text, (err as Error).message)}${(err as Error).message}`);
  }
  return ModelConfig.decode(toBinary(desc, message));
}

/** Writes a ModelConfig as config.pbtxt text (the inverse of parseModelConfigText). */
export function formatModelConfigText(config: ModelConfig): string {
  const desc = modelConfigSchema();
  return toText(desc, fromBinary(desc, ModelConfig.encode(config).finish()));
}

/**
 * "line N: " for a parse error, found by parsing growing prefixes until one fails with
 * the same message (the parser reports no position). Only runs on failure; configs are small.
 */
function locate(desc: DescMessage, text: string, message: string): string {
  const lines = text.split('\n');
  for (let n = 1; n <= lines.length; n++) {
    try {
      fromText(desc, lines.slice(0, n).join('\n'));
    } catch (err) {
      if ((err as Error).message === message) return `line ${n}: `;
    }
  }
  return '';
}
