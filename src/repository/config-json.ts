import { fromBinary, fromJsonString, ScalarType, toBinary, toJson, type DescMessage, type JsonObject, type JsonValue } from '@bufbuild/protobuf';
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

/**
 * A ModelConfig as Triton's HTTP endpoint writes it (GET /v2/models/{m}/config): protobuf's
 * JSON mapping with the proto's field names (`max_batch_size`), fields at their defaults
 * included, enums by name, and (unlike plain protobuf JSON, as Triton fixes them up) 64-bit
 * integers as JSON numbers (`"dims": [16]`).
 */
export function formatModelConfigJson(config: ModelConfig): JsonValue {
  const desc = modelConfigSchema();
  const json = toJson(desc, fromBinary(desc, ModelConfig.encode(config).finish()), { useProtoFieldName: true, alwaysEmitImplicit: true });
  return int64sAsNumbers(desc, json);
}

const INT64_TYPES: ReadonlySet<ScalarType> = new Set([ScalarType.INT64, ScalarType.UINT64, ScalarType.FIXED64, ScalarType.SFIXED64, ScalarType.SINT64]);

/** Walks `json` along its message descriptor, turning the decimal strings of 64-bit integer fields into numbers. */
function int64sAsNumbers(desc: DescMessage, json: JsonValue): JsonValue {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return json;
  const out: JsonObject = { ...json };
  const number = (v: JsonValue) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v);
  for (const field of desc.fields) {
    const value = out[field.name];
    if (value === undefined || value === null) continue;
    switch (field.fieldKind) {
      case 'scalar':
        if (INT64_TYPES.has(field.scalar)) out[field.name] = number(value);
        break;
      case 'list':
        if (!Array.isArray(value)) break;
        if (field.listKind === 'scalar' && INT64_TYPES.has(field.scalar)) out[field.name] = value.map(number);
        else if (field.listKind === 'message') out[field.name] = value.map((v) => int64sAsNumbers(field.message, v));
        break;
      case 'map':
        if (typeof value !== 'object' || Array.isArray(value)) break;
        if (field.mapKind === 'message') out[field.name] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, int64sAsNumbers(field.message, v)]));
        else if (field.mapKind === 'scalar' && INT64_TYPES.has(field.scalar)) out[field.name] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, number(v)]));
        break;
      case 'message':
        out[field.name] = int64sAsNumbers(field.message, value);
        break;
      default:
        break;
    }
  }
  return out;
}
