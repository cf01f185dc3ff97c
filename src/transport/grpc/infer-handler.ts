import { status } from '@grpc/grpc-js';
import { clip } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { GRPCInferenceServiceServer } from '../../generated/grpc_service.js';
import { admit } from '../common/admission.js';
import { callSignal } from './call-signal.js';
import { INPUT_ARENA_BYTES, InputArena } from '../common/input-arena.js';
import { decodeInferRequest, encodeInferResponse } from './infer-codec.js';
import { header, logFailure, logIds, RefusalLog } from './request-log.js';
import type { ServiceContext } from './service-context.js';
import { grpcCode, toServiceError } from './status.js';

/** One successful request in this many is logged at debug level. */
const SUCCESS_LOG_EVERY = 100;

/**
 * ModelInfer: admit the request as every transport does (common/admission.ts: lookup,
 * decode, validation) and hand it to the model's scheduler with one
 * CancelSignal for the deadline and client cancellation. The call's trace (when sampled)
 * spans all of it; a failure is logged once with the trace's ids.
 */
export function inferHandler(context: ServiceContext): Pick<GRPCInferenceServiceServer, 'modelInfer'> {
  const logger = context.logger.child({ rpc: 'ModelInfer' });
  let successes = 0;
  const refusals = new RefusalLog(logger);
  const arena = new InputArena(INPUT_ARENA_BYTES);
  return {
    modelInfer: (call, callback) => {
      const message = call.request;
      const trace = context.telemetry.startCall({ method: 'ModelInfer', model: message.modelName, header: (name) => header(call.metadata, name) });
      const { signal, dispose } = callSignal(call);
      let releaseInputs = (): void => {};
      let releaseOutputs: (() => void) | undefined;
      const run = async () => {
        const { model, request, regions } = admit(
          context,
          { modelName: message.modelName, modelVersion: message.modelVersion, decoupledRefusal: "ModelInfer RPC doesn't support models with decoupled transaction policy" },
          () => decodeInferRequest(message, trace, context.sharedMemory),
        );
        const held = arena.hold(request);
        releaseInputs = held.release;
        // The call keeps its decoded message until it ends: drop its views of the received bytes.
        if (held.request !== request) message.rawInputContents = [];
        try {
          const response = await model.servable.infer(held.request, signal);
          releaseOutputs = response.release;
          return encodeInferResponse(regions.write(response));
        } finally {
          regions.release();
        }
      };
      run().then(
        (response) => {
          dispose();
          context.telemetry.endCall(trace, { code: 'OK', grpcStatus: status.OK });
          if (++successes % SUCCESS_LOG_EVERY === 0) {
            logger.debug({ model: message.modelName, version: response.modelVersion, request_id: clip(message.id), ...logIds(trace, call.metadata) }, 'inference request served (sampled)');
          }
          callback(null, response);
          releaseInputs();
          // grpc-js has serialized the response inside callback (it copies our serializer's
          // bytes into its frame at once), so the outputs' buffers can go back to the instance.
          releaseOutputs?.();
        },
        (err: unknown) => {
          dispose();
          const error = InferError.from(err);
          context.telemetry.endCall(trace, { code: error.code, grpcStatus: grpcCode(error.code), error });
          const fields = () => ({ model: clip(message.modelName), version: clip(message.modelVersion), request_id: clip(message.id), ...logIds(trace, call.metadata) });
          if (error.id === 'QUEUE_FULL') refusals.note(message.modelName, error, fields);
          else logFailure(logger, error, fields());
          callback(toServiceError(error));
          releaseInputs();
        },
      );
    },
  };
}
