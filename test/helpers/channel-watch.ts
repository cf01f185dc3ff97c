import { connectivityState, type Client } from '@grpc/grpc-js';

/** What a test learns about a client's channel between `watchChannel` and `stop`. */
export interface ChannelWatch {
  /** Every connectivity state the channel moved to, in order (READY -> IDLE on a dropped connection). */
  readonly changes: readonly string[];
  stop(): void;
}

/**
 * Records each change of a gRPC client's channel state. A test that sends a hostile
 * request on a READY channel and then sees no change knows the connection under every
 * other call on that channel survived it.
 */
export function watchChannel(client: Client): ChannelWatch {
  const channel = client.getChannel();
  const changes: string[] = [];
  let stopped = false;
  const arm = (current: connectivityState) => {
    channel.watchConnectivityState(current, Infinity, () => {
      if (stopped) return;
      const next = channel.getConnectivityState(false);
      changes.push(connectivityState[next]);
      if (next !== connectivityState.SHUTDOWN) arm(next);
    });
  };
  arm(channel.getConnectivityState(false));
  return {
    changes,
    stop() {
      stopped = true;
    },
  };
}
