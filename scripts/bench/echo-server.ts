/**
 * The transport baseline: a minimal grpc-js server on the same generated stubs and service
 * definition as Nereid, whose ModelInfer echoes each input's bytes back as an output of the
 * same size. No validation, no scheduling, no ONNX: what is left is gRPC and protobuf.
 * Runs as its own process: prints {"msg":"listening","port":N} on stdout; stops on SIGTERM.
 */
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { GRPCInferenceServiceServer, ModelInferRequest, ModelInferResponse } from '../../src/generated/grpc_service.js';
import { widenReceiveWindow } from '../../src/transport/grpc/http2-window.js';
import { InferenceServiceDefinition } from '../../src/transport/grpc/service-definitions.js';

const unimplemented = (_call: unknown, callback: (err: { code: status; details: string }) => void) =>
  callback({ code: status.UNIMPLEMENTED, details: 'echo server' });

function echo(request: ModelInferRequest): ModelInferResponse {
  return {
    modelName: request.modelName,
    modelVersion: '1',
    id: request.id,
    parameters: {},
    outputs: request.inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: input.shape, parameters: {} })),
    rawOutputContents: request.rawInputContents,
  };
}

const handlers = Object.fromEntries(Object.keys(InferenceServiceDefinition).map((name) => [name, unimplemented])) as unknown as GRPCInferenceServiceServer;
handlers.modelInfer = (call, callback) => callback(null, echo(call.request));
handlers.serverReady = (_call, callback) => callback(null, { ready: true });

const server = new Server({ 'grpc.max_receive_message_length': 2 ** 31 - 1, 'grpc.max_send_message_length': 2 ** 31 - 1 });
server.addService(InferenceServiceDefinition, handlers);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) throw err;
  // The same transport settings as Nereid, so the echo stays the limit of the same stack.
  widenReceiveWindow(server, Number(process.env['NEREID_GRPC_RECEIVE_WINDOW'] ?? 4 * 1024 * 1024));
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
