import type { LlamaConfig } from '../llama.js';
import { checkOneOf, SHARED_KEYS, type ModelFamily } from './family.js';

const silu = (): 'silu' => 'silu';
const noWindow = (): null => null;
const checkSilu = (raw: Parameters<ModelFamily['check']>[0]): void => checkOneOf(raw, 'hidden_act', ['silu'], 'a SwiGLU MLP');

/** LlamaForCausalLM (Llama 1–3.x, SmolLM, TinyLlama, …): biases on attention by attention_bias, on the MLP by mlp_bias. */
export const llama: ModelFamily = {
  modelType: 'llama',
  architecture: 'LlamaForCausalLM',
  keys: [...SHARED_KEYS, 'attention_bias', 'mlp_bias'],
  defaults: {},
  fused: false,
  qkNorm: false,
  gemma: false,
  sandwichNorms: false,
  biases: (c: LlamaConfig) => ({ qkv: c.attention_bias, o: c.attention_bias, mlp: c.mlp_bias }),
  window: noWindow,
  activation: silu,
  check: checkSilu,
  peftTargets: ['q_proj', 'v_proj'],
};

/**
 * Qwen2ForCausalLM (Qwen2, Qwen2.5): Llama with biases on q, k and v (never on o or the MLP). Qwen's sliding window
 * (use_sliding_window: true) is not implemented; the loader refuses it (transformers' default is false).
 */
export const qwen2: ModelFamily = {
  ...llama,
  modelType: 'qwen2',
  architecture: 'Qwen2ForCausalLM',
  keys: [...SHARED_KEYS],
  biases: () => ({ qkv: true, o: false, mlp: false }),
};

/**
 * MistralForCausalLM: Llama without biases, where every layer attends to the last `sliding_window` positions
 * (null: full causal attention; transformers' default when config.json leaves it out is 4096).
 */
export const mistral: ModelFamily = {
  ...llama,
  modelType: 'mistral',
  architecture: 'MistralForCausalLM',
  keys: [...SHARED_KEYS, 'sliding_window'],
  defaults: { num_key_value_heads: 8, sliding_window: 4096, max_position_embeddings: 4096 * 32 },
  biases: () => ({ qkv: false, o: false, mlp: false }),
  window: (c: LlamaConfig) => c.sliding_window,
};

/**
 * Qwen3ForCausalLM: Llama with q_norm / k_norm (RMSNorm over head_dim on each head of q and k, before rotary) and
 * biases by attention_bias. As for Qwen2, use_sliding_window: true is refused.
 */
export const qwen3: ModelFamily = {
  ...llama,
  modelType: 'qwen3',
  architecture: 'Qwen3ForCausalLM',
  keys: [...SHARED_KEYS, 'attention_bias'],
  defaults: { head_dim: 128, max_position_embeddings: 32768 },
  qkNorm: true,
  biases: (c: LlamaConfig) => ({ qkv: c.attention_bias, o: c.attention_bias, mlp: false }),
};
