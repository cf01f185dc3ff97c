import type { DataType as ProtocolDataType } from '../core/data-type.js';
import { DataType as ConfigDataType, dataTypeToJSON } from '../generated/model_config.js';

const TO_PROTOCOL: ReadonlyMap<ConfigDataType, ProtocolDataType> = new Map<ConfigDataType, ProtocolDataType>([
  [ConfigDataType.TYPE_BOOL, 'BOOL'],
  [ConfigDataType.TYPE_UINT8, 'UINT8'],
  [ConfigDataType.TYPE_UINT16, 'UINT16'],
  [ConfigDataType.TYPE_UINT32, 'UINT32'],
  [ConfigDataType.TYPE_UINT64, 'UINT64'],
  [ConfigDataType.TYPE_INT8, 'INT8'],
  [ConfigDataType.TYPE_INT16, 'INT16'],
  [ConfigDataType.TYPE_INT32, 'INT32'],
  [ConfigDataType.TYPE_INT64, 'INT64'],
  [ConfigDataType.TYPE_FP16, 'FP16'],
  [ConfigDataType.TYPE_FP32, 'FP32'],
  [ConfigDataType.TYPE_FP64, 'FP64'],
  [ConfigDataType.TYPE_STRING, 'BYTES'],
  [ConfigDataType.TYPE_BF16, 'BF16'],
]);

const TO_CONFIG = new Map<ProtocolDataType, ConfigDataType>([...TO_PROTOCOL].map(([config, protocol]) => [protocol, config]));

/** Protocol datatype ("BYTES") of a config enum value (TYPE_STRING); undefined for TYPE_INVALID. */
export function toProtocolDataType(type: ConfigDataType): ProtocolDataType | undefined {
  return TO_PROTOCOL.get(type);
}

/** Config enum value of a protocol datatype. */
export function toConfigDataType(type: ProtocolDataType): ConfigDataType {
  return TO_CONFIG.get(type) ?? ConfigDataType.TYPE_INVALID;
}

/** The enum's name, as config.pbtxt spells it ("TYPE_INT32"). */
export function configDataTypeName(type: ConfigDataType): string {
  return dataTypeToJSON(type);
}
