import { ConfigError } from '../description.js';
import type { LlamaConfig } from '../llama.js';
import { checkOneOf, checkPositive, SHARED_KEYS, type ModelFamily } from './family.js';
import { llama } from './llama.js';

/**
 * Phi3ForCausalLM (Phi-3, Phi-3.5, Phi-4-mini): one `qkv_proj` Linear whose output is q | k | v, one `gate_up_proj`
 * whose output is gate | up (MLP: down(up · silu(gate))), no biases; the first int(head_dim · partial_rotary_factor)
 * dimensions of each head rotate (longrope scaling reads the top-level original_max_position_embeddings); every layer attends to the last `sliding_window` positions when it is set. These are
 * the module names PEFT targets: a LoRA pair on qkv_proj adapts the fused weight as a whole (A [r, C], B [q+2kv, r]).
 */
export const phi3: ModelFamily = {
  ...llama,
  modelType: 'phi3',
  architecture: 'Phi3ForCausalLM',
  keys: [...SHARED_KEYS, 'partial_rotary_factor', 'original_max_position_embeddings', 'sliding_window'],
  defaults: { rms_norm_eps: 1e-5, max_position_embeddings: 4096, original_max_position_embeddings: 4096, partial_rotary_factor: 1, sliding_window: null },
  fused: true,
  biases: () => ({ qkv: false, o: false, mlp: false }),
  window: (c: LlamaConfig) => c.sliding_window,
  check(raw) {
    checkOneOf(raw, 'hidden_act', ['silu'], 'a SwiGLU MLP');
    checkPositive(raw, 'partial_rotary_factor', false);
    if ((raw.partial_rotary_factor as number) > 1)
      throw new ConfigError('/partial_rotary_factor', `found ${raw.partial_rotary_factor}, allowed: a number in (0, 1]`);
  },
  // PEFT has no default target_modules for phi3: an adapter config must name them.
  peftTargets: null,
};
