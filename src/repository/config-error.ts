/**
 * A model that cannot be served because of its configuration or files. The message is the
 * reason shown in logs and in the model's UNAVAILABLE state; it names the model.
 */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
}
