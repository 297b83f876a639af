import type { Model, JsonObject } from './model.js';
import { Mlp, type MlpConfig } from './mlp.js';

/** A zoo entry: builds a freshly initialised model from its config and a seed. */
export interface Architecture {
  name: string;
  description: string;
  create(config: JsonObject, seed: number): Model;
}

const registry = new Map<string, Architecture>();

export function registerArchitecture(architecture: Architecture): void {
  registry.set(architecture.name, architecture);
}

export function architectureNames(): string[] {
  return [...registry.keys()].sort();
}

export function createModel(name: string, config: JsonObject, seed: number): Model {
  const architecture = registry.get(name);
  if (!architecture) throw new Error(`unknown architecture "${name}"; known: ${architectureNames().join(', ')}`);
  return architecture.create(config, seed);
}

registerArchitecture({
  name: 'mlp',
  description: 'multilayer perceptron classifier (Linear sites layers.0 … layers.n, ReLU/GELU/tanh)',
  create: (config, seed) => new Mlp(config as unknown as MlpConfig, seed),
});
