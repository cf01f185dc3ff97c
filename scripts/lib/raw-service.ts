/**
 * A gRPC client class whose methods send and receive bytes as they are (no codec): for load
 * generators that encode their requests once, and for tests of messages no codec would write.
 */
import { makeGenericClientConstructor } from '@grpc/grpc-js';

const identity = (b: Buffer) => b;

function rawMethod(path: string, streaming = false) {
  const originalName = path.slice(path.lastIndexOf('/') + 1);
  return {
    path,
    requestStream: streaming,
    responseStream: streaming,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    originalName,
  };
}

/** KServe's ModelInfer, ModelStreamInfer, ServerLive and ModelMetadata, and the health check, on raw bytes. */
export const RawInferenceClient = makeGenericClientConstructor(
  {
    ModelInfer: rawMethod('/inference.GRPCInferenceService/ModelInfer'),
    ModelStreamInfer: rawMethod('/inference.GRPCInferenceService/ModelStreamInfer', true),
    ServerLive: rawMethod('/inference.GRPCInferenceService/ServerLive'),
    ModelMetadata: rawMethod('/inference.GRPCInferenceService/ModelMetadata'),
    HealthCheck: rawMethod('/grpc.health.v1.Health/Check'),
  },
  'GRPCInferenceService',
);
