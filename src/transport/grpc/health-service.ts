import type { ServerWritableStream } from '@grpc/grpc-js';
import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import {
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckRequest,
  type HealthCheckResponse,
  type HealthServer,
} from '../../generated/health.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

/**
 * The health service name that answers liveness: SERVING while the process serves (from
 * the moment the endpoint listens, through model loading and the graceful drain). A
 * Kubernetes liveness probe must not fail while models load or while a readiness problem
 * lasts, or the kubelet restarts a pod that is only busy; readiness stays on ''.
 */
export const LIVENESS_SERVICE = 'live';

/**
 * grpc.health.v1.Health. Service '' is the whole server (SERVING when ServerReady is
 * true, so strict readiness with --strict-readiness); {@link LIVENESS_SERVICE} is
 * liveness (ServerLive); a model name is SERVING when the model has a ready version, and
 * liveness wins over a model named `live`. Kubernetes gRPC probes and grpc_health_probe
 * call Check; Watch streams each change.
 */
export function healthService(context: ServiceContext): { service: HealthServer; endWatches(): void } {
  const watchers = new Set<() => void>();
  const calls = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();
  const notify = () => {
    for (const watcher of watchers) watcher();
  };
  context.state.onChange(notify);
  context.registry.onChange(notify);

  const statusOf = (service: string): ServingStatus | undefined => {
    if (service === '') return context.state.isReady() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (service === LIVENESS_SERVICE) return context.state.isLive() ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (!context.registry.modelNames().includes(service)) return undefined;
    return !context.state.isStopping() && context.registry.isReady(service, '') ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  };

  const service: HealthServer = {
    check: unary((request: HealthCheckRequest) => {
      const current = statusOf(request.service);
      if (current === undefined) {
        throw new InferError('MODEL_NOT_FOUND', `unknown service ${quote(request.service)}`);
      }
      return { status: current };
    }),
    watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
      let last: ServingStatus | undefined;
      const send = () => {
        const current = statusOf(call.request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (current === last) return;
        last = current;
        call.write({ status: current });
      };
      const forget = () => {
        watchers.delete(send);
        calls.delete(call);
      };
      watchers.add(send);
      calls.add(call);
      call.on('cancelled', forget);
      call.on('close', forget);
      send();
    },
  };
  return {
    service,
    /** Sends the final status to every Watch and ends it, so shutdown need not wait for them. */
    endWatches() {
      notify();
      for (const call of calls) call.end();
      calls.clear();
      watchers.clear();
    },
  };
}
