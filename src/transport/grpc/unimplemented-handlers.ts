import type { ServerDuplexStream } from '@grpc/grpc-js';
import { InferError } from '../../core/errors.js';
import type { GRPCInferenceServiceServer, ModelInferRequest, ModelStreamInferResponse } from '../../generated/grpc_service.js';
import { toServiceError } from './status.js';

type Pending = Pick<GRPCInferenceServiceServer, 'modelStreamInfer'>;

/**
 * The RPCs of GRPCInferenceService that Nereid does not serve yet. They are registered
 * so clients get UNIMPLEMENTED with a message naming the RPC, rather than a bare
 * "method not found".
 */
export function unimplementedHandlers(): Pending {
  return {
    modelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>) => {
      const error = new InferError('UNSUPPORTED', "ModelStreamInfer is not implemented by this server yet (Triton extension 'sequence')");
      call.emit('error', toServiceError(error));
    },
  };
}
