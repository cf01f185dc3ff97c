import type { controlHandlers, Handler } from './control-routes.js';

/** One path pattern and its handler per method; captures become the call's params. */
export interface Route {
  readonly pattern: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

const NAME = '([^/]+)';
const VERSION = '(?:/versions/([0-9]+))?';
const REGION = `(?:/region/${NAME})?`;
const REPOSITORY = `(?:/${NAME})?`;

/**
 * Triton's HTTP routes (server's http_server.cc), KServe v2 core first: paths match
 * whole, a model's version is digits, and a per-model trace setting takes no version.
 */
export function routeTable(h: ReturnType<typeof controlHandlers>, infer: Handler): Route[] {
  const at = (path: string, methods: Record<string, Handler>): Route => ({ pattern: new RegExp(`^${path}$`), methods });
  return [
    at('/v2', { GET: h.serverMetadata }),
    at('/v2/health/live', { GET: h.live }),
    at('/v2/health/ready', { GET: h.ready }),
    at('/v2/models/stats', { GET: h.modelStats }),
    at('/v2/logging', { GET: h.logging, POST: h.logging }),
    at('/v2/trace/setting', { GET: h.traceSetting, POST: h.traceSetting }),
    at(`/v2/models/${NAME}${VERSION}`, { GET: h.modelMetadata }),
    at(`/v2/models/${NAME}${VERSION}/ready`, { GET: h.modelReady }),
    at(`/v2/models/${NAME}${VERSION}/infer`, { POST: infer }),
    at(`/v2/models/${NAME}${VERSION}/config`, { GET: h.modelConfig }),
    at(`/v2/models/${NAME}${VERSION}/stats`, { GET: h.modelStats }),
    at(`/v2/models/${NAME}/trace/setting`, { GET: h.traceSetting, POST: h.traceSetting }),
    at(`/v2/repository${REPOSITORY}/index`, { POST: h.repositoryIndex }),
    at(`/v2/repository${REPOSITORY}/models/${NAME}/load`, { POST: h.repositoryLoad }),
    at(`/v2/repository${REPOSITORY}/models/${NAME}/unload`, { POST: h.repositoryUnload }),
    at(`/v2/systemsharedmemory${REGION}/status`, { GET: h.systemShmStatus }),
    at(`/v2/systemsharedmemory${REGION}/register`, { POST: h.systemShmRegister }),
    at(`/v2/systemsharedmemory${REGION}/unregister`, { POST: h.systemShmUnregister }),
    at(`/v2/cudasharedmemory${REGION}/status`, { GET: h.cudaShmStatus }),
    at(`/v2/cudasharedmemory${REGION}/register`, { POST: h.cudaShmRegister }),
    at(`/v2/cudasharedmemory${REGION}/unregister`, { POST: h.cudaShmUnregister }),
  ];
}
