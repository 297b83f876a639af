import { gemma, gemma2 } from './gemma.js';
import { llama, mistral, qwen2, qwen3 } from './llama.js';
import { phi3 } from './phi3.js';
import type { ModelFamily } from './family.js';

export { SHARED_KEYS, type FamilyActivation, type ModelFamily } from './family.js';

/** The model families rankwise loads from Hugging Face directories, by config.json model_type. */
export const FAMILIES: ReadonlyMap<string, ModelFamily> = new Map([llama, qwen2, mistral, qwen3, phi3, gemma, gemma2].map((f) => [f.modelType, f]));
export const FAMILY_MODEL_TYPES = [...FAMILIES.keys()] as const;

/** Every config key some family reads. */
export const FAMILY_KEYS: readonly string[] = [...new Set([...FAMILIES.values()].flatMap((f) => f.keys))];

/** Keys whose null in config.json means "off" rather than "use the default". */
export const NULLABLE_KEYS: readonly string[] = [
  'rope_scaling',
  'sliding_window',
  'layer_types',
  'hidden_activation',
  'attn_logit_softcapping',
  'final_logit_softcapping',
];
export { gemmaEmbeddingScale } from './gemma.js';
