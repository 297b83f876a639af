/** A tiny Llama config for unit tests: 4 heads / 2 KV heads, tied embeddings, rope θ 1e4; each test sets its sizes. */
export function tinyLlamaConfig(sizes: { vocab_size: number; hidden_size: number; intermediate_size: number; num_hidden_layers: number; context: number }) {
  return {
    model_type: 'llama' as const,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rope_theta: 10000,
    rms_norm_eps: 1e-5,
    max_position_embeddings: 64,
    tie_word_embeddings: true,
    ...sizes,
  };
}
