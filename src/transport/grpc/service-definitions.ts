import { GRPCInferenceServiceService, type ModelInferResponse, type ModelStreamInferResponse } from '../../generated/grpc_service.js';
import { ResponseWriter } from './response-writer.js';

/**
 * The inference service definition, with one change to the generated one: ModelInfer and
 * ModelStreamInfer responses are encoded by a ResponseWriter, which copies tensor bytes
 * once into a reused buffer (ts-proto's writer grows, slices and then copies again, which
 * matters for large outputs). One definition per server: the writer's buffer is its own.
 */
export function inferenceServiceDefinition() {
  const writer = new ResponseWriter();
  return {
    ...GRPCInferenceServiceService,
    modelInfer: {
      ...GRPCInferenceServiceService.modelInfer,
      responseSerialize: (value: ModelInferResponse): Buffer => writer.inferResponse(value),
    },
    modelStreamInfer: {
      ...GRPCInferenceServiceService.modelStreamInfer,
      responseSerialize: (value: ModelStreamInferResponse): Buffer => writer.streamResponse(value),
    },
  } as const;
}
