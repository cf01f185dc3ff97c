import { fromJsonString, toBinary } from '@bufbuild/protobuf';
import { ModelConfig } from '../generated/model_config.js';
import { modelConfigSchema } from './config-text.js';

/**
 * Parses a ModelConfig written in protobuf's JSON mapping, as RepositoryModelLoad's
 * `config` parameter carries it (Triton parses it with JsonStringToMessage): field names
 * as in the proto (`max_batch_size`) or in lowerCamelCase, 64-bit and 32-bit integers as
 * numbers or strings (`"max_batch_size": "16"`), enums by name. Unknown fields and wrong
 * types are errors, with the parser's message.
 */
export function parseModelConfigJson(text: string): ModelConfig {
  const desc = modelConfigSchema();
  return ModelConfig.decode(toBinary(desc, fromJsonString(desc, text)));
}
