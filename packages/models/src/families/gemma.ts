import type { LlamaConfig } from '../llama.js';
import { checkLayerTypes, checkOneOf, checkPositive, SHARED_KEYS, type ModelFamily } from './family.js';
import { llama } from './llama.js';

const GELU_TANH = 'gelu_pytorch_tanh';

/**
 * GemmaForCausalLM: RMSNorm x̂ · (1 + w), embeddings multiplied by sqrt(hidden_size) (rounded to the checkpoint's
 * dtype, as transformers does), GeGLU: down(gelu_tanh(gate(x)) · up(x)), tied head, head_dim independent of hidden.
 * The MLP's activation is `hidden_activation`; unset, transformers (4.38 on) uses gelu_pytorch_tanh whatever
 * `hidden_act` says (the first Gemma releases say "gelu" there).
 */
export const gemma: ModelFamily = {
  ...llama,
  modelType: 'gemma',
  architecture: 'GemmaForCausalLM',
  keys: [...SHARED_KEYS, 'attention_bias', 'hidden_activation'],
  defaults: {
    num_key_value_heads: 16,
    head_dim: 256,
    max_position_embeddings: 8192,
    tie_word_embeddings: true,
    hidden_act: GELU_TANH,
    hidden_activation: null,
  },
  gemma: true,
  biases: (c: LlamaConfig) => ({ qkv: c.attention_bias, o: c.attention_bias, mlp: false }),
  activation: () => GELU_TANH,
  check(raw) {
    checkOneOf(raw, 'hidden_act', ['gelu', GELU_TANH], "Gemma's GeGLU");
    checkOneOf(raw, 'hidden_activation', [null, GELU_TANH], "the tanh-approximated GELU of Gemma's GeGLU");
  },
  peftTargets: ['q_proj', 'v_proj'],
};

/**
 * Gemma2ForCausalLM: Gemma, plus query_pre_attn_scalar^−½ as the attention scale, attention logits soft-capped
 * (cap · tanh(s / cap)) before the mask, post_attention_layernorm applied to the attention output, the MLP between
 * pre_feedforward_layernorm and post_feedforward_layernorm, final logits soft-capped, and sliding-window attention
 * on the layers layer_types marks "sliding_attention" (by default the even ones: 0, 2, …).
 */
export const gemma2: ModelFamily = {
  ...gemma,
  modelType: 'gemma2',
  architecture: 'Gemma2ForCausalLM',
  keys: [
    ...SHARED_KEYS,
    'attention_bias',
    'hidden_activation',
    'query_pre_attn_scalar',
    'attn_logit_softcapping',
    'final_logit_softcapping',
    'sliding_window',
    'layer_types',
  ],
  defaults: {
    num_key_value_heads: 4,
    head_dim: 256,
    max_position_embeddings: 8192,
    tie_word_embeddings: true,
    hidden_act: GELU_TANH,
    hidden_activation: GELU_TANH,
    query_pre_attn_scalar: 256,
    attn_logit_softcapping: 50,
    final_logit_softcapping: 30,
    sliding_window: 4096,
    layer_types: null,
  },
  sandwichNorms: true,
  window(c: LlamaConfig, layer: number) {
    const sliding = c.layer_types ? c.layer_types[layer] === 'sliding_attention' : layer % 2 === 0;
    return sliding ? c.sliding_window : null;
  },
  activation: (c: LlamaConfig) => (c.hidden_activation ?? c.hidden_act) as typeof GELU_TANH,
  check(raw, layers) {
    checkOneOf(raw, raw.hidden_activation === null ? 'hidden_act' : 'hidden_activation', [GELU_TANH], "the tanh-approximated GELU of Gemma 2's GeGLU");
    checkPositive(raw, 'query_pre_attn_scalar', false);
    checkPositive(raw, 'attn_logit_softcapping', true);
    checkPositive(raw, 'final_logit_softcapping', true);
    checkLayerTypes(raw, layers);
  },
};

/** A float32 value rounded to nearest-even in a 16-bit float format (as PyTorch converts to bfloat16 / float16). */
function roundFloat32(value: number, droppedBits: number): number {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value);
  const bits = view.getUint32(0);
  const half = 1 << (droppedBits - 1);
  const rounded = (bits + (half - 1) + ((bits >>> droppedBits) & 1)) & ~((1 << droppedBits) - 1);
  view.setUint32(0, rounded >>> 0);
  return view.getFloat32(0);
}

/**
 * Gemma's embedding normalizer, torch.tensor(hidden_size ** 0.5, dtype=<the weights' dtype>): transformers runs a
 * checkpoint in its config.json torch_dtype (`dtype` from transformers 4.56), so a bfloat16 Gemma scales by
 * sqrt(hidden) rounded to bfloat16 (sqrt(3072) = 55.43 becomes 55.5). rankwise computes in float32 and rounds the
 * normalizer the same way, so it matches the model transformers runs from that checkpoint.
 */
export function gemmaEmbeddingScale(c: LlamaConfig): number {
  const dtype = c.hf_extra.torch_dtype ?? c.hf_extra.dtype ?? 'float32';
  const scale = Math.fround(Math.sqrt(c.hidden_size));
  if (dtype === 'bfloat16') return roundFloat32(scale, 16);
  if (dtype === 'float16') return roundFloat32(scale, 13); // normal range: the 10-bit mantissa of a half
  return scale;
}
