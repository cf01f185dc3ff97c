/**
 * A model that cannot be served because of its configuration or files. The message is the
 * reason shown in logs and in the model's UNAVAILABLE state; it names the model.
 */
export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
}

/**
 * A model file that cannot be read or is not a valid model. Triton meets these while
 * loading the model (not while reading its config), so a load reports them as a failed
 * load rather than a failed poll.
 */
export class ModelFileError extends ModelConfigError {}
