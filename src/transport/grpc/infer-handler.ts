import { InferError } from '../../core/errors.js';
import { validateInferRequest } from '../../core/request-validation.js';
import type { GRPCInferenceServiceServer } from '../../generated/grpc_service.js';
import { callSignal } from './call-signal.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

/**
 * ModelInfer: look up the model (Triton checks the version and the model first), decode
 * the tensors, validate, and hand the request to the model's scheduler with one
 * AbortSignal for the deadline and client cancellation.
 */
export function inferHandler(context: ServiceContext): Pick<GRPCInferenceServiceServer, 'modelInfer'> {
  return {
    modelInfer: unary(async (message, call) => {
      if (context.state.isStopping()) throw new InferError('SERVER_STOPPING', 'Server is shutting down');
      const model = context.registry.get(message.modelName, message.modelVersion);
      const request = decodeInferRequest(message);
      const validated = validateInferRequest(request, model.info);
      const { signal, dispose } = callSignal(call);
      try {
        return encodeInferResponse(await model.servable.infer(validated, signal));
      } finally {
        dispose();
      }
    }),
  };
}
