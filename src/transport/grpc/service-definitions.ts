import { GRPCInferenceServiceService, ModelInferResponse, ModelStreamInferResponse } from '../../generated/grpc_service.js';

/**
 * The inference service definition, with one change to the generated one: ModelInfer and
 * ModelStreamInfer responses are wrapped in a Buffer without copying (ts-proto's default
 * serializer copies the encoded bytes a second time, which matters for large outputs).
 */
export const InferenceServiceDefinition = {
  ...GRPCInferenceServiceService,
  modelInfer: {
    ...GRPCInferenceServiceService.modelInfer,
    responseSerialize: (value: ModelInferResponse): Buffer => {
      const bytes = ModelInferResponse.encode(value).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  },
  modelStreamInfer: {
    ...GRPCInferenceServiceService.modelStreamInfer,
    responseSerialize: (value: ModelStreamInferResponse): Buffer => {
      const bytes = ModelStreamInferResponse.encode(value).finish();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
  },
} as const;
