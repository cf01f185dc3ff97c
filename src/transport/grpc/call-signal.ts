import type { ServerUnaryCall } from '@grpc/grpc-js';
import { CancelSource, type CancelSignal } from '../../core/cancel-signal.js';
import { InferError } from '../../core/errors.js';

/**
 * One CancelSignal for a call's deadline and its cancellation by the client. The reason is
 * an InferError (DEADLINE_EXCEEDED or REQUEST_CANCELLED), so the core can fail queued
 * requests with the right code. Call `dispose` when the call is answered.
 */
export function callSignal(call: CancellableCall): { signal: CancelSignal; dispose(): void } {
  const controller = new CancelSource();
  const deadline = deadlineMs(call.getDeadline());
  const expire = () => controller.abort(new InferError('DEADLINE_EXCEEDED', 'Deadline exceeded'));
  let timer: NodeJS.Timeout | undefined;
  if (Number.isFinite(deadline)) {
    const left = deadline - Date.now();
    if (left <= 0) expire();
    else timer = setTimeout(expire, left);
  }
  const onCancel = () => {
    if (Date.now() >= deadline) expire();
    else controller.abort(new InferError('REQUEST_CANCELLED', 'the client cancelled the request'));
  };
  call.once('cancelled', onCancel);
  return {
    signal: controller,
    dispose() {
      if (timer !== undefined) clearTimeout(timer);
      call.removeListener('cancelled', onCancel);
    },
  };
}

/** The parts of a grpc-js server call this needs (unary and streaming calls have them). */
interface CancellableCall {
  getDeadline: ServerUnaryCall<unknown, unknown>['getDeadline'];
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
}

function deadlineMs(deadline: Date | number): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
