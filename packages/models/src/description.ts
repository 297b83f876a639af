import type { JsonObject, ModelTask } from './types/json.js';
import type { Site } from './types/site.js';

/** What a model will be, known from its config alone (no tensors): used to validate pipelines before loading. */
export interface ModelDescription {
  architecture: string;
  task: ModelTask;
  /** The config with defaults filled in. */
  config: JsonObject;
  sites: Site[];
  /** classification: input width and number of classes. */
  inputFeatures?: number;
  classes?: number;
  /** classification models that know it: one example's input shape without the batch axis. */
  inputShape?: number[];
  /** language-model: vocabulary size and context length. */
  vocabSize?: number;
  contextLength?: number;
  /** Models read from files with layers that are not sites (tfjs LayersModels): every layer, for placement checks. */
  layers?: Array<{ name: string; className: string; index: number }>;
}

/** A config field that is wrong; `pointer` is relative to the config object. */
export class ConfigError extends Error {
  constructor(
    readonly pointer: string,
    message: string,
  ) {
    super(`${pointer === '' ? '/' : pointer}: ${message}`);
    this.name = 'ConfigError';
  }
}

/** Rejects keys a config does not know (nanoGPT-style flat configs: a typo is an error, not a default). */
export function rejectUnknownKeys(config: JsonObject, allowed: readonly string[]): void {
  for (const key of Object.keys(config)) {
    if (!allowed.includes(key)) throw new ConfigError(`/${key}`, `unknown key "${key}"; allowed: ${allowed.join(', ')}`);
  }
}

/** A ConfigError, recognised by shape (a second copy of core throws its own class). */
export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof Error && error.name === 'ConfigError' && typeof (error as Partial<ConfigError>).pointer === 'string';
}
