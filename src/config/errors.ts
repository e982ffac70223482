// The configuration's error, in a module of its own so that the CLI can recognise it without
// loading the config schema (yaml and zod cost a tenth of a second at start).
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
