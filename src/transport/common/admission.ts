import { InferError } from '../../core/errors.js';
import type { InferRequest } from '../../core/infer-request.js';
import { validateInferRequest, type ValidatedRequest } from '../../core/request-validation.js';
import type { ReadyModel } from '../../repository/model-registry.js';
import type { ServiceContext } from './service-context.js';
import { OutputRegions } from './shm-tensors.js';

/** An inference request cleared to go to its model's scheduler. */
export interface Admitted {
  readonly model: ReadyModel;
  readonly request: ValidatedRequest;
  /** Outputs going to shared memory; the caller must release them whatever happens. */
  readonly regions: OutputRegions;
}

/** What the transport names before the request is decoded. */
export interface AdmissionTarget {
  readonly modelName: string;
  readonly modelVersion: string;
  /**
   * The refusal for a decoupled model (Triton words it per endpoint), or undefined where the
   * endpoint takes decoupled models (ModelStreamInfer).
   */
  readonly decoupledRefusal?: string | undefined;
}

/**
 * The steps every inference request takes, over gRPC (ModelInfer, ModelStreamInfer) or
 * HTTP (POST .../infer), in Triton's order: refused while the server stops; the model
 * and version looked up (NOT_FOUND / UNAVAILABLE); a decoupled model refused where the
 * endpoint answers once; then `decode` (the transport's tensors to a core request),
 * validation against the model, and the leases of outputs that go to shared memory.
 * Synchronous from lookup to the caller's `infer`: a version being unloaded counts the
 * request before it retires.
 */
export function admit(context: ServiceContext, target: AdmissionTarget, decode: () => InferRequest): Admitted {
  if (context.state.isStopping()) throw new InferError('SERVER_STOPPING', 'Server is shutting down');
  const model = context.registry.get(target.modelName, target.modelVersion);
  if (target.decoupledRefusal !== undefined && model.info.decoupled === true) throw new InferError('DECOUPLED_UNARY', target.decoupledRefusal);
  const request = validateInferRequest(decode(), model.info);
  return { model, request, regions: OutputRegions.of(request.request.outputs, context.sharedMemory) };
}
