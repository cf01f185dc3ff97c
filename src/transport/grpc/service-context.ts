/** The handlers' context is transport-neutral (transport/common); gRPC's modules import it from here. */
export type { ServerState, ServiceContext } from '../common/service-context.js';
