import type { JsonObject } from '@rankwise/models/types/json';
import type { Site } from '@rankwise/models/types/site';

/** A site the plugin chose, optionally with its own rank / alpha (PEFT's rank_pattern, alpha_pattern). */
export interface PlacementChoice {
  path: string;
  r?: number;
  alpha?: number;
}

/**
 * An adapter-placement plugin: a plain object, like a Vite or ESLint plugin. `select` is pure: it sees sites
 * (path, shape, layer, role), never tensors, and returns the ones to adapt. Its options are validated against
 * `optionsSchema` (JSON Schema 2020-12) before `select` is ever called.
 */
export interface PlacementPlugin<Options = JsonObject> {
  /** The npm package name, e.g. `@rankwise/placement-pattern`. */
  name: string;
  description: string;
  /** A JSON Schema (draft 2020-12) object. */
  optionsSchema: Record<string, unknown>;
  select(sites: readonly Site[], options: Options): PlacementChoice[];
}

/** Returns its argument; exists for type inference of `options` in `select`. */
export function definePlacementPlugin<Options>(plugin: PlacementPlugin<Options>): PlacementPlugin<Options> {
  return plugin;
}

/** A plugin's complaint about valid-looking options (an unknown role, a layer out of range…). */
export class PlacementError extends Error {
  constructor(
    message: string,
    /** JSON pointer relative to the plugin's options, e.g. `/layers/2`. */
    readonly pointer = '',
  ) {
    super(message);
    this.name = 'PlacementError';
  }
}

/** A PlacementError by shape (`name` and `pointer`): a plugin that resolved its own copy of core throws its own class. */
export function isPlacementError(error: unknown): error is PlacementError {
  return error instanceof Error && error.name === 'PlacementError' && typeof (error as Partial<PlacementError>).pointer === 'string';
}
