import type { GRPCInferenceServiceServer, ModelRepositoryParameter } from '../../generated/grpc_service.js';
import { checkUnloadDependents, loadOverrides, noRepositoryName, type LoadParameter } from '../common/repository-control.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

type Handlers = Pick<GRPCInferenceServiceServer, 'repositoryIndex' | 'repositoryModelLoad' | 'repositoryModelUnload'>;

/**
 * Triton's model repository extension: the index of every model in the repositories,
 * and explicit load/unload. Parameters are checked by the rules HTTP shares
 * (common/repository-control.ts), and the registry does the rest.
 */
export function repositoryHandlers(context: ServiceContext): Handlers {
  const { registry } = context;
  return {
    repositoryIndex: unary(async (request) => {
      noRepositoryName(request.repositoryName);
      const rows = await registry.repositoryIndex(request.ready);
      return { models: rows.map((r) => ({ name: r.name, version: r.version, state: r.state, reason: r.reason })) };
    }),
    repositoryModelLoad: unary(async (request) => {
      noRepositoryName(request.repositoryName);
      await registry.load(request.modelName, loadOverrides(Object.entries(request.parameters).map(([key, p]) => [key, loadParameter(p)] as const)));
      return {};
    }),
    repositoryModelUnload: unary(async (request) => {
      noRepositoryName(request.repositoryName);
      const dependents = request.parameters['unload_dependents'];
      checkUnloadDependents(dependents === undefined ? undefined : dependents.parameterChoice?.$case === 'boolParam' ? 'bool' : 'other');
      await registry.unload(request.modelName);
      return {};
    }),
  };
}

function loadParameter(parameter: ModelRepositoryParameter): LoadParameter {
  const choice = parameter.parameterChoice;
  if (choice?.$case === 'stringParam') return { kind: 'string', value: choice.value };
  if (choice?.$case === 'bytesParam') return { kind: 'bytes', value: choice.value };
  return { kind: 'other' };
}
