/**
 * The transport baseline: a minimal grpc-js server on the same generated stubs and service
 * definition as Nereid. No validation, no scheduling, no ONNX: what is left is gRPC and
 * protobuf. Its ModelInfer answers with the model's real outputs' names, shapes and sizes
 * when given them (argv[2], JSON ResponseOutput[]), so that it moves the same bytes as the
 * server both ways (ocr_rec: 184 KB in, about 1 MB out); without them it echoes each input's
 * bytes back as an output of the same size.
 * Runs as its own process: prints {"msg":"listening","port":N} on stdout; stops on SIGTERM.
 */
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { GRPCInferenceServiceServer, ModelInferRequest, ModelInferResponse } from '../../src/generated/grpc_service.js';
import type { ResponseOutput } from './bench-types.js';
import { widenReceiveWindow } from '../../src/transport/grpc/http2-window.js';
import { inferenceServiceDefinition } from '../../src/transport/grpc/service-definitions.js';

const unimplemented = (_call: unknown, callback: (err: { code: status; details: string }) => void) =>
  callback({ code: status.UNIMPLEMENTED, details: 'echo server' });

const spec = process.argv[2] === undefined ? undefined : (JSON.parse(process.argv[2]) as ResponseOutput[]);
// Filled once: the response's bytes are encoded (copied) per request as the server's are.
const outputs = spec?.map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape.map(BigInt), parameters: {} }));
const contents = spec?.map((o) => Buffer.alloc(o.bytes, 0x5a));

function echo(request: ModelInferRequest): ModelInferResponse {
  if (outputs !== undefined && contents !== undefined) {
    return { modelName: request.modelName, modelVersion: '1', id: request.id, parameters: {}, outputs, rawOutputContents: contents };
  }
  return {
    modelName: request.modelName,
    modelVersion: '1',
    id: request.id,
    parameters: {},
    outputs: request.inputs.map((input) => ({ name: input.name, datatype: input.datatype, shape: input.shape, parameters: {} })),
    rawOutputContents: request.rawInputContents,
  };
}

const definition = inferenceServiceDefinition();
const handlers = Object.fromEntries(Object.keys(definition).map((name) => [name, unimplemented])) as unknown as GRPCInferenceServiceServer;
handlers.modelInfer = (call, callback) => callback(null, echo(call.request));
handlers.serverReady = (_call, callback) => callback(null, { ready: true });

const server = new Server({ 'grpc.max_receive_message_length': 2 ** 31 - 1, 'grpc.max_send_message_length': 2 ** 31 - 1 });
server.addService(definition, handlers);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) throw err;
  // The same transport settings as Nereid, so the echo stays the limit of the same stack.
  widenReceiveWindow(server, Number(process.env['NEREID_GRPC_RECEIVE_WINDOW'] ?? 4 * 1024 * 1024));
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port })}\n`);
});
process.once('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
