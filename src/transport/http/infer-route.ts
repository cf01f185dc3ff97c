import { deflate, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { CancelSource } from '../../core/cancel-signal.js';
import { clip } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import { admit } from '../common/admission.js';
import { INPUT_ARENA_BYTES, InputArena } from '../common/input-arena.js';
import { logFailure, logIds, RefusalLog } from '../common/request-log.js';
import type { ServiceContext } from '../common/service-context.js';
import { parseJson, type HttpCall, type Reply } from './http-call.js';
import { toHttpError } from './http-status.js';
import { decodeHttpInferRequest, type OutputForms } from './infer-json.js';
import { encodeHttpInferResponse } from './infer-response.js';
import { responseEncoding } from './request-body.js';

/** One successful request in this many is logged at debug level, as over gRPC. */
const SUCCESS_LOG_EVERY = 100;

const compress = { gzip: promisify(gzip), deflate: promisify(deflate) };

/**
 * POST /v2/models/{m}[/versions/{v}]/infer: the body (decompressed) is the JSON request,
 * or with Inference-Header-Content-Length the JSON followed by binary tensors; the request
 * is admitted as every transport's is (common/admission.ts), run with a CancelSignal that
 * fires if the client goes away, and answered as JSON with binary outputs appended
 * (compressed as Accept-Encoding allows). A large body is read into pooled memory
 * (common/input-arena.ts), so binary inputs, views of it, need no copy to die young. The call's trace (W3C traceparent from the
 * headers) spans all of it; a failure is logged once with the trace's ids.
 */
export function inferRoute(context: ServiceContext): (call: HttpCall) => Promise<Reply> {
  const logger = context.logger.child({ endpoint: 'http', route: 'infer' });
  const limits = context.requestLimits;
  let successes = 0;
  const refusals = new RefusalLog(logger);
  const arena = new InputArena(INPUT_ARENA_BYTES);
  return async (call) => {
    const [modelName = '', modelVersion = ''] = call.params;
    const header = (name: string) => call.header(name);
    const route = modelVersion === '' ? '/v2/models/{model_name}/infer' : '/v2/models/{model_name}/versions/{model_version}/infer';
    const trace = context.telemetry.startCall({ protocol: 'http', method: `POST ${route}`, model: modelName, header });
    // Not an AbortController: EventTarget costs the main thread microseconds per request (core/cancel-signal.ts).
    const controller = new CancelSource();
    const onClose = () => {
      if (!call.response.writableFinished) controller.abort(new InferError('REQUEST_CANCELLED', 'the client cancelled the request'));
    };
    call.response.once('close', onClose);
    // A large body is pooled memory (InputArena): it goes back once the request has settled
    // and the response is closed (its outputs written), never for a sequence request, whose
    // batcher may keep it past its answer (the buffer is then garbage like any other).
    let releaseBody = (): void => {};
    let settled = false;
    let closed = false;
    let keepBody = false;
    const giveBack = () => {
      if (settled && closed && !keepBody) releaseBody();
    };
    call.response.once('close', () => {
      closed = true;
      giveBack();
    });
    let requestId = '';
    try {
      const { body, release } = await call.pooledBody(arena);
      releaseBody = release;
      const headerLength = inferenceHeaderLength(call.header('inference-header-content-length'), body.length);
      const json = parseJson(body.subarray(0, headerLength), limits);
      let forms: OutputForms | undefined;
      const { model, request, regions } = admit(
        context,
        { modelName, modelVersion, decoupledRefusal: "HTTP end point doesn't support models with decoupled transaction policy" },
        () => {
          const decoded = decodeHttpInferRequest(json, { modelName, modelVersion, body, headerLength, limits, trace, shm: context.sharedMemory });
          forms = decoded.forms;
          requestId = decoded.request.id;
          return decoded.request;
        },
      );
      keepBody = request.sequence.id !== undefined;
      let reply: Reply;
      try {
        const response = regions.write(await model.servable.infer(request, controller));
        // Binary outputs are written as views of the instance's output buffers: they can go
        // back to it only once the response has been handed to the OS ('finish'). A response
        // cut off before that leaves them to the garbage collector.
        if (response.release !== undefined) call.response.once('finish', response.release);
        reply = await encodeReply(encodeHttpInferResponse(response, forms!, regions), responseEncoding(call.header('accept-encoding')));
      } finally {
        regions.release();
      }
      context.telemetry.endCall(trace, { code: 'OK', httpStatus: 200 });
      if (++successes % SUCCESS_LOG_EVERY === 0) {
        logger.debug({ model: clip(modelName), request_id: clip(requestId), ...logIds(trace, header) }, 'inference request served (sampled)');
      }
      return reply;
    } catch (err) {
      const failure = toHttpError(err);
      const { error } = failure;
      context.telemetry.endCall(trace, { code: error.code, httpStatus: failure.status, error });
      const fields = () => ({ model: clip(modelName), version: clip(modelVersion), request_id: clip(requestId), ...logIds(trace, header) });
      if (error.id === 'QUEUE_FULL') refusals.note(modelName, error, fields);
      else logFailure(logger, error, fields());
      throw failure.error;
    } finally {
      call.response.off('close', onClose);
      settled = true;
      giveBack();
    }
  };
}

/**
 * Triton's reading of Inference-Header-Content-Length: absent, the whole body is JSON;
 * else the JSON's length, from 0 to the body's. 0 would make the whole body one raw input
 * (Triton's raw binary request for single-input models), which Nereid does not take.
 */
export function inferenceHeaderLength(value: string | undefined, bodyLength: number): number {
  if (value === undefined) return bodyLength;
  if (!/^\s*\d+\s*$/.test(value)) throw new InferError('REQUEST_MALFORMED', `Unable to parse Inference-Header-Content-Length, got: ${clip(value)}`);
  const length = Number(value);
  if (length > bodyLength) throw new InferError('REQUEST_MALFORMED', `inference header size should be in range (0, ${bodyLength}), got: ${clip(value.trim())}`);
  if (length === 0) {
    throw new InferError('UNSUPPORTED', 'Inference-Header-Content-Length: 0 (the whole body as one raw input) is not supported; send a JSON header with binary_data_size');
  }
  return length;
}

async function encodeReply(encoded: ReturnType<typeof encodeHttpInferResponse>, encoding: 'gzip' | 'deflate' | undefined): Promise<Reply> {
  const binary = encoded.binary.length > 0;
  const headers: Record<string, string | number> = binary
    ? { 'content-type': 'application/octet-stream', 'inference-header-content-length': encoded.header.length }
    : { 'content-type': 'application/json' };
  const parts = [encoded.header, ...encoded.binary];
  if (encoding === undefined) return { status: 200, headers, body: parts };
  const compressed = await compress[encoding](Buffer.concat(parts));
  return { status: 200, headers: { ...headers, 'content-encoding': encoding }, body: [compressed] };
}
