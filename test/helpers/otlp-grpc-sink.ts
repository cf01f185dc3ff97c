/** A real OTLP/gRPC receiver (the collector's TraceService) on a loopback port 0, keeping what it was sent. */
import { Server, ServerCredentials, type Metadata, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

export interface OtlpGrpcExport {
  readonly metadata: Metadata;
  /** Names of the spans in the ExportTraceServiceRequest. */
  readonly spanNames: readonly string[];
  /** The resource attributes with string values. */
  readonly resource: Readonly<Record<string, string>>;
}

export interface OtlpGrpcSink {
  /** http://127.0.0.1:<port>, as OTEL_EXPORTER_OTLP_ENDPOINT takes it for gRPC. */
  readonly url: string;
  readonly exports: OtlpGrpcExport[];
  close(): Promise<void>;
}

const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** The messages a length-delimited field holds, read with a field callback. */
function each(bytes: Uint8Array, onField: (field: number, reader: BinaryReader, wireType: WireType) => void): void {
  const reader = new BinaryReader(bytes);
  while (reader.pos < reader.len) {
    const [field, wireType] = reader.tag();
    const before = reader.pos;
    onField(field, reader, wireType);
    if (reader.pos === before) reader.skip(wireType, field);
  }
}

/** ExportTraceServiceRequest: resource_spans(1) { resource(1) { attributes(1) KeyValue }, scope_spans(2) { spans(2) { name(5) } } }. */
function decode(body: Buffer, metadata: Metadata): OtlpGrpcExport {
  const spanNames: string[] = [];
  const resource: Record<string, string> = {};
  each(body, (field, reader) => {
    if (field !== 1) return;
    each(reader.bytes(), (rsField, rs) => {
      if (rsField === 1) {
        each(rs.bytes(), (resField, res) => {
          if (resField !== 1) return;
          let key = '';
          let value = '';
          each(res.bytes(), (kvField, kv) => {
            if (kvField === 1) key = kv.string();
            if (kvField === 2) each(kv.bytes(), (anyField, any) => (anyField === 1 ? (value = any.string()) : undefined));
          });
          resource[key] = value;
        });
      } else if (rsField === 2) {
        each(rs.bytes(), (ssField, ss) => {
          if (ssField !== 2) return;
          each(ss.bytes(), (spanField, span) => (spanField === 5 ? void spanNames.push(span.string()) : undefined));
        });
      }
    });
  });
  return { metadata, spanNames, resource };
}

export async function startOtlpGrpcSink(): Promise<OtlpGrpcSink> {
  const exports: OtlpGrpcExport[] = [];
  const server = new Server();
  const definition: ServiceDefinition = {
    Export: {
      path: PATH,
      requestStream: false,
      responseStream: false,
      requestSerialize: (b: Buffer) => b,
      requestDeserialize: (b: Buffer) => b,
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (b: Buffer) => b,
    },
  };
  const implementation: UntypedServiceImplementation = {
    Export: (call: { request: Buffer; metadata: Metadata }, callback: (err: null, response: Buffer) => void) => {
      exports.push(decode(call.request, call.metadata));
      callback(null, Buffer.alloc(0));
    },
  };
  server.addService(definition, implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) => (err === null ? resolve(bound) : reject(err))),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
