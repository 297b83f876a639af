import type { ModelDescription } from './description.js';
import type { Model, JsonObject } from './model.js';
import { describeGpt, Gpt, type GptConfig } from './gpt.js';
import { describeLlama, Llama } from './llama.js';
import { describeMlp, Mlp, type MlpConfig } from './mlp.js';

/** A zoo entry: describes a config without tensors, and builds a freshly initialised model from it. */
export interface Architecture {
  name: string;
  description: string;
  /** Validates the config (throwing ConfigError with a pointer into it) and lists the sites. */
  describe(config: JsonObject): ModelDescription;
  create(config: JsonObject, seed: number): Model;
}

const registry = new Map<string, Architecture>();

export function registerArchitecture(architecture: Architecture): void {
  registry.set(architecture.name, architecture);
}

export function architectureNames(): string[] {
  return [...registry.keys()].sort();
}

export function getArchitecture(name: string): Architecture {
  const architecture = registry.get(name);
  if (!architecture) throw new Error(`unknown architecture "${name}"; known: ${architectureNames().join(', ')}`);
  return architecture;
}

export function createModel(name: string, config: JsonObject, seed: number): Model {
  return getArchitecture(name).create(config, seed);
}

export function describeModel(name: string, config: JsonObject): ModelDescription {
  return getArchitecture(name).describe(config);
}

registerArchitecture({
  name: 'mlp',
  description: 'multilayer perceptron classifier (Linear sites layers.0 … layers.n, ReLU/GELU/tanh)',
  describe: describeMlp,
  create: (config, seed) => new Mlp(config as unknown as MlpConfig, seed),
});

registerArchitecture({
  name: 'gpt',
  description: 'decoder-only character transformer (sites blocks.N.attn.q/k/v/o, blocks.N.mlp.fc/proj, head)',
  describe: describeGpt,
  create: (config, seed) => new Gpt(config as unknown as GptConfig, seed),
});

registerArchitecture({
  name: 'llama',
  description:
    'Llama-family decoder with Hugging Face names, by model_type: llama, qwen2, mistral, qwen3, phi3, gemma, gemma2 (sites model.layers.N.self_attn.q/k/v/o_proj, model.layers.N.mlp.gate/up/down_proj; Phi-3 qkv_proj, gate_up_proj; lm_head when untied)',
  describe: describeLlama,
  create: (config, seed) => new Llama(config, seed),
});
