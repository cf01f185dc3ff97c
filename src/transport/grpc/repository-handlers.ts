import { quote } from '../../core/client-text.js';
import { InferError } from '../../core/errors.js';
import type { GRPCInferenceServiceServer, ModelRepositoryParameter } from '../../generated/grpc_service.js';
import { FILE_PREFIX, type LoadOverrides } from '../../repository/load-overrides.js';
import type { ServiceContext } from './service-context.js';
import { unary } from './unary.js';

type Handlers = Pick<GRPCInferenceServiceServer, 'repositoryIndex' | 'repositoryModelLoad' | 'repositoryModelUnload'>;

/**
 * Triton's model repository extension: the index of every model in the repositories,
 * and explicit load/unload. The handlers check parameters as Triton's frontend does
 * (names and types), and the registry does the rest.
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
      await registry.load(request.modelName, loadOverrides(request.parameters));
      return {};
    }),
    repositoryModelUnload: unary(async (request) => {
      noRepositoryName(request.repositoryName);
      const dependents = request.parameters['unload_dependents'];
      if (dependents !== undefined && dependents.parameterChoice?.$case !== 'boolParam') {
        throw new InferError('LOAD_PARAMETER_INVALID', "invalid value type for 'unload_dependents' parameter, expected bool_param.");
      }
      // Models here have no dependents (no ensembles), so unload_dependents changes nothing.
      await registry.unload(request.modelName);
      return {};
    }),
  };
}

function noRepositoryName(name: string): void {
  if (name !== '') throw new InferError('UNSUPPORTED', "'repository_name' specification is not supported");
}

/** `config` (string_param) and `file:<path>` (bytes_param); anything else is refused, as in Triton. */
function loadOverrides(parameters: { [key: string]: ModelRepositoryParameter }): LoadOverrides {
  let config: string | undefined;
  const files = new Map<string, Uint8Array>();
  for (const [key, parameter] of Object.entries(parameters)) {
    const choice = parameter.parameterChoice;
    if (key === 'config') {
      if (choice?.$case !== 'stringParam') throw new InferError('LOAD_PARAMETER_INVALID', `invalid value type for load parameter ${quote(key)}, expected string_param.`);
      config = choice.value;
    } else if (key.startsWith(FILE_PREFIX)) {
      if (choice?.$case !== 'bytesParam') throw new InferError('LOAD_PARAMETER_INVALID', `invalid value type for load parameter ${quote(key)}, expected bytes_param.`);
      files.set(key, choice.value);
    } else {
      throw new InferError('LOAD_PARAMETER_INVALID', `unrecognized load parameter ${quote(key)}.`);
    }
  }
  return config === undefined ? { files } : { config, files };
}
