import type { JsonObject, ModelTask } from './types/json.js';
import { Module } from './module.js';

export type { JsonObject, JsonPrimitive, JsonValue, ModelTask } from './types/json.js';

/** A whole network: a module tree that knows how to describe (and so re-create) itself. */
export abstract class Model extends Module {
  /** Zoo name, e.g. `mlp`, `gpt`. */
  abstract readonly architecture: string;
  abstract readonly task: ModelTask;
  /** JSON-serialisable constructor config; `createModel(architecture, config)` rebuilds the same shapes. */
  abstract readonly config: JsonObject;

  /** Language models: the longest sequence they take. */
  get contextLength(): number | undefined {
    return undefined;
  }

  /** Classifiers that know it: one example's input shape without the batch axis (e.g. [28, 28, 1]). */
  get inputShape(): readonly number[] | undefined {
    return undefined;
  }
}
