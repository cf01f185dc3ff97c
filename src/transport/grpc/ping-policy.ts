import { constants, type Http2Session } from 'node:http2';

/** Triton's keepalive and HTTP/2 ping flags, with gRPC core's meanings. */
export interface PingPolicyOptions {
  /** Send a keepalive ping this long after the last one was answered. */
  readonly keepaliveTimeMs: number;
  /** Close the connection when a ping is not answered within this. */
  readonly keepaliveTimeoutMs: number;
  /** Ping, and accept pings, on connections without a call in flight. */
  readonly permitWithoutCalls: boolean;
  /** Pings sent before the server must have sent data again; 0 = no limit. */
  readonly maxPingsWithoutData: number;
  /** Least interval between a client's pings while calls are open. */
  readonly minRecvPingIntervalWithoutDataMs: number;
  /** Strikes before GOAWAY ENHANCE_YOUR_CALM; 0 = never. */
  readonly maxPingStrikes: number;
}

/** gRPC core's limit for pings on an idle connection without permit_without_calls (RFC 1122's TCP keepalive). */
const IDLE_PING_INTERVAL_MS = 2 * 60 * 60 * 1000;
/** What gRPC core's servers put in the GOAWAY they send to a client that pings too often. */
const TOO_MANY_PINGS = Buffer.from('too_many_pings');

/**
 * Keepalive and ping-abuse policy for one client connection, as gRPC core (and so Triton)
 * applies them; grpc-js's server has neither knob, so the endpoint turns its keepalive off
 * and attaches this to every session instead.
 *
 * Sending: a keepalive ping goes out `keepaliveTimeMs` after the last answer, only while a
 * call is open (unless `permitWithoutCalls`) and while fewer than `maxPingsWithoutData` pings
 * went out since the server last sent a response's headers or trailers (calls starting or
 * ending stand for data sent). An unanswered ping closes the connection.
 *
 * Receiving (gRPC core's Chttp2PingAbusePolicy): a client ping sooner than
 * `minRecvPingIntervalWithoutDataMs` after the previous one (2 hours while no call is open,
 * unless `permitWithoutCalls`) is a strike; past `maxPingStrikes` the server sends GOAWAY
 * ENHANCE_YOUR_CALM with "too_many_pings" and closes the connection once its calls finish.
 * Strikes reset when calls start or end.
 *
 * Main thread; timers are unref'd so they never keep the process alive.
 */
export function applyPingPolicy(session: Http2Session, options: PingPolicyOptions): void {
  let openStreams = 0;
  let lastStreamId = 0;
  let pingsWithoutData = 0;
  let lastPingReceived = -Infinity;
  let strikes = 0;
  let timer: NodeJS.Timeout | undefined;

  const dataSent = () => {
    pingsWithoutData = 0;
    lastPingReceived = -Infinity;
    strikes = 0;
  };
  const schedule = (ms: number, action: () => void) => {
    clearTimeout(timer);
    timer = setTimeout(action, ms);
    timer.unref();
  };
  const keepalive = () => {
    if (session.destroyed || session.closed) return;
    const mayPing =
      (openStreams > 0 || options.permitWithoutCalls) && (options.maxPingsWithoutData === 0 || pingsWithoutData < options.maxPingsWithoutData);
    if (!mayPing) {
      schedule(options.keepaliveTimeMs, keepalive);
      return;
    }
    pingsWithoutData++;
    let sent = false;
    try {
      sent = session.ping((err) => {
        if (err !== null) session.destroy();
        else schedule(options.keepaliveTimeMs, keepalive);
      });
    } catch {
      sent = false;
    }
    if (!sent) {
      session.destroy();
      return;
    }
    schedule(options.keepaliveTimeoutMs, () => session.destroy());
  };

  session.on('stream', (stream) => {
    openStreams++;
    lastStreamId = Math.max(lastStreamId, stream.id ?? 0);
    dataSent();
    stream.once('close', () => {
      openStreams--;
      dataSent();
    });
  });
  session.on('ping', () => {
    const now = performance.now();
    const idle = openStreams === 0 && !options.permitWithoutCalls;
    const allowedAt = lastPingReceived + (idle ? IDLE_PING_INTERVAL_MS : options.minRecvPingIntervalWithoutDataMs);
    lastPingReceived = now;
    if (allowedAt <= now) return;
    strikes++;
    if (options.maxPingStrikes === 0 || strikes <= options.maxPingStrikes) return;
    try {
      session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, lastStreamId, TOO_MANY_PINGS);
    } finally {
      session.close();
    }
  });
  session.once('close', () => clearTimeout(timer));
  if (options.keepaliveTimeMs > 0) schedule(options.keepaliveTimeMs, keepalive);
}
