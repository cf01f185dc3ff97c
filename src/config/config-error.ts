/** A bad flag or environment variable; the message names it. main.ts exits with status 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
