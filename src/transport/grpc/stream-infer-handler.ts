import type { ServerDuplexStream } from '@grpc/grpc-js';
import { InferError } from '../../core/errors.js';
import type { GRPCInferenceServiceServer, ModelInferRequest, ModelStreamInferResponse } from '../../generated/grpc_service.js';
import { InferStream, STREAM_BOUNDS, type StreamBounds } from './infer-stream.js';
import type { ServiceContext } from './service-context.js';

/**
 * ModelStreamInfer (infer-stream.ts holds one call), and the open streams, so that a
 * shutdown can end them: `drain` refuses their later requests and ends each stream with
 * UNAVAILABLE once the requests it has in flight are answered, instead of leaving the
 * shutdown to wait for clients that keep their streams open.
 */
export function streamInferHandler(
  context: ServiceContext,
  bounds: StreamBounds = STREAM_BOUNDS,
): { handler: Pick<GRPCInferenceServiceServer, 'modelStreamInfer'>; drain(): void; open(): number } {
  const logger = context.logger.child({ rpc: 'ModelStreamInfer' });
  const streams = new Set<InferStream>();
  const counter = { successes: 0 };
  let draining: InferError | undefined;
  return {
    handler: {
      modelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>) => {
        const stream: InferStream = new InferStream(call, context, logger, bounds, counter, () => streams.delete(stream));
        streams.add(stream);
        if (draining !== undefined) stream.drain(draining);
      },
    },
    drain() {
      draining = new InferError('SERVER_STOPPING', 'Server is shutting down');
      for (const stream of streams) stream.drain(draining);
    },
    open: () => streams.size,
  };
}
