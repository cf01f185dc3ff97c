import { ConfigError } from './config-error.js';
import type { GrpcConfig } from './server-config.js';
import type { ValueReaders } from './value-readers.js';

const INT32_MAX = 2 ** 31 - 1;

/**
 * The gRPC endpoint's settings: address, keepalive and HTTP/2 ping policy (Triton's flags and
 * defaults, which are gRPC core's), connection age, and TLS. TLS follows Triton:
 * `--grpc-use-ssl-mutual` implies `--grpc-use-ssl`; certificate flags are ignored (with a
 * warning) without it. Files are only named here; the endpoint reads them when it starts.
 */
export function readGrpcConfig(read: ValueReaders): GrpcConfig {
  return {
    enabled: read.bool('allow-grpc', true),
    address: read.str('grpc-address', '0.0.0.0'),
    port: read.int('grpc-port', 8001, 0, 65535),
    keepaliveTimeMs: read.int('grpc-keepalive-time', 7_200_000, 1, INT32_MAX),
    keepaliveTimeoutMs: read.int('grpc-keepalive-timeout', 20_000, 1, INT32_MAX),
    keepalivePermitWithoutCalls: read.bool('grpc-keepalive-permit-without-calls', false),
    http2MaxPingsWithoutData: read.int('grpc-http2-max-pings-without-data', 2, 0, INT32_MAX),
    http2MinRecvPingIntervalWithoutDataMs: read.int('grpc-http2-min-recv-ping-interval-without-data', 300_000, 0, INT32_MAX),
    http2MaxPingStrikes: read.int('grpc-http2-max-ping-strikes', 2, 0, INT32_MAX),
    maxConnectionAgeMs: read.int('grpc-max-connection-age', 0, 0, INT32_MAX),
    maxConnectionAgeGraceMs: read.given('grpc-max-connection-age-grace') === undefined ? undefined : read.int('grpc-max-connection-age-grace', 0, 0, INT32_MAX),
    receiveWindowBytes: read.int('grpc-receive-window', 4 * 1024 * 1024, 0, INT32_MAX),
    tls: readTls(read),
  };
}

function readTls(read: ValueReaders): GrpcConfig['tls'] {
  const mutual = read.bool('grpc-use-ssl-mutual', false);
  const enabled = mutual || read.bool('grpc-use-ssl', false);
  const files = ['grpc-server-cert', 'grpc-server-key', 'grpc-root-cert'] as const;
  if (!enabled) {
    for (const name of files) {
      if (read.given(name) !== undefined) read.warn(name, `${read.label(name)} is ignored without --grpc-use-ssl or --grpc-use-ssl-mutual (as in Triton); gRPC is served in plain text`);
    }
    return undefined;
  }
  const certFile = read.given('grpc-server-cert');
  const keyFile = read.given('grpc-server-key');
  const which = mutual ? '--grpc-use-ssl-mutual' : '--grpc-use-ssl';
  if (certFile === undefined || keyFile === undefined) {
    throw new ConfigError(`${which} needs --grpc-server-cert and --grpc-server-key (PEM files with the server's certificate and private key)`);
  }
  const rootCertFile = read.given('grpc-root-cert');
  if (mutual && rootCertFile === undefined) {
    throw new ConfigError('--grpc-use-ssl-mutual needs --grpc-root-cert (a PEM file with the CA certificates that client certificates must chain to)');
  }
  if (!mutual && rootCertFile !== undefined) {
    read.warn('grpc-root-cert', `${read.label('grpc-root-cert')} is used only with --grpc-use-ssl-mutual; with --grpc-use-ssl alone clients are not asked for a certificate`);
  }
  return {
    mutual,
    certFile,
    keyFile,
    rootCertFile: mutual ? rootCertFile : undefined,
    refreshSecs: read.int('grpc-ssl-refresh-secs', 10, 0, 86_400),
  };
}
