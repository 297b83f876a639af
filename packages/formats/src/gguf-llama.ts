/**
 * Llama-family models as GGUF files, laid out as llama.cpp's convert_hf_to_gguf.py writes them: `llama.*` (or
 * `qwen2.*`) hyperparameters, GGUF tensor names (`blk.N.attn_q.weight`, …), PyTorch's [out, in] weights as GGUF dims
 * [in, out], q and k rows permuted from Hugging Face's half-split rotary layout to llama.cpp's interleaved pairs
 * (LlamaModel.permute; Qwen2 is stored unpermuted), 1-D tensors in F32, the tokenizer as gpt2 BPE metadata. Reading
 * undoes all of it and dequantizes every tensor to float32.
 */
import { relative } from 'node:path';
import { recordBaseModel } from './base-model.js';
import * as tf from '@tensorflow/tfjs';
import {
  GgmlType,
  GgufReader,
  WRITE_TYPES,
  gguf,
  writeGguf,
  readGgufHeader,
  tensorIssues,
  tokenizerFromMetadata,
  tokenizerIssues,
  tokenizerMetadata,
  GgufValueType,
  type GgufHeader,
  type GgufTensorToWrite,
  type GgufValue,
  type GgufWriteType,
} from '@rankwise/gguf';
import { ConfigError } from '@rankwise/models/description';
import { describeLlama, Llama, type LlamaConfig } from '@rankwise/models';
import type { JsonObject } from '@rankwise/models';
import { huggingFaceTensors, llamaTorchTensors } from './huggingface.js';

/** GGUF architectures rankwise reads and writes (general.architecture = the model_type). */
export const GGUF_ARCHITECTURES = ['llama', 'qwen2'] as const;

const LAYER_NAMES: Record<string, string> = {
  input_layernorm: 'attn_norm',
  'self_attn.q_proj': 'attn_q',
  'self_attn.k_proj': 'attn_k',
  'self_attn.v_proj': 'attn_v',
  'self_attn.o_proj': 'attn_output',
  post_attention_layernorm: 'ffn_norm',
  'mlp.gate_proj': 'ffn_gate',
  'mlp.up_proj': 'ffn_up',
  'mlp.down_proj': 'ffn_down',
};

/** The GGUF name of a Hugging Face module path (`model.layers.3.self_attn.q_proj` → `blk.3.attn_q`; `lm_head` → `output`). */
export function ggufModuleName(path: string): string {
  if (path === 'model.embed_tokens') return 'token_embd';
  if (path === 'model.norm') return 'output_norm';
  if (path === 'lm_head') return 'output';
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(path);
  const local = m ? LAYER_NAMES[m[2]] : undefined;
  if (!m || !local) throw new Error(`no GGUF name for module "${path}"`);
  return `blk.${m[1]}.${local}`;
}

/** `…weight` / `…bias` tensor name → GGUF name. */
export function ggufTensorName(hfName: string): string {
  const cut = hfName.lastIndexOf('.');
  return `${ggufModuleName(hfName.slice(0, cut))}${hfName.slice(cut)}`;
}

/**
 * convert_hf_to_gguf's LlamaModel.permute for the rows of q (heads = attention heads) or k (heads = key/value heads):
 * within each head, row j·hd/2 + i (HF's rotate_half halves) moves to row 2i + j (llama.cpp's adjacent pairs).
 * `inverse` undoes it. values: [rows, cols] row-major.
 */
export function permuteRotaryRows(values: Float32Array, heads: number, cols: number, inverse = false): Float32Array {
  const rows = values.length / cols;
  const hd = rows / heads;
  const half = hd / 2;
  const out = new Float32Array(values.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const interleaved = (h * hd + 2 * i + j) * cols;
        const split = (h * hd + j * half + i) * cols;
        const [to, from] = inverse ? [split, interleaved] : [interleaved, split];
        out.set(values.subarray(from, from + cols), to);
      }
    }
  }
  return out;
}

/** Heads whose rotary rows a tensor's rows are permuted by (q: attention heads, k: kv heads), or null. */
export function rotaryHeads(config: LlamaConfig, hfName: string): number | null {
  if (config.model_type !== 'llama') return null;
  if (/\.q_proj\.(weight|bias)$/.test(hfName)) return config.num_attention_heads;
  if (/\.k_proj\.(weight|bias)$/.test(hfName)) return config.num_key_value_heads;
  return null;
}

/** general.* and `<arch>.*` hyperparameters as convert_hf_to_gguf.py's TextModel.set_gguf_parameters writes them. */
/**
 * Why a model cannot be written as GGUF here, or null: the writer knows llama and qwen2 hyperparameters and tensors
 * only, and no rope scaling (llama.cpp's rope_freqs / rope.scaling keys); the other families (nn/families/) and
 * scaled rotary embeddings would make a file llama.cpp reads as a different model.
 */
export function ggufUnsupported(config: Pick<LlamaConfig, 'model_type' | 'rope_scaling'>): string | null {
  if (!(GGUF_ARCHITECTURES as readonly string[]).includes(config.model_type)) {
    return `model_type "${config.model_type}": the GGUF writer knows ${GGUF_ARCHITECTURES.map((a) => JSON.stringify(a)).join(', ')} only`;
  }
  const scaling = config.rope_scaling;
  if (scaling && (scaling.rope_type ?? scaling.type) !== 'default') return `rope_scaling ${JSON.stringify(scaling)}: the GGUF writer has no rope scaling`;
  return null;
}

export function llamaGgufMetadata(config: LlamaConfig, options: { name: string; fileType: number | null; type?: 'model' | 'adapter' }): Map<string, GgufValue> {
  const unsupported = ggufUnsupported(config);
  if (unsupported) throw new Error(`GGUF: ${unsupported}`);
  const arch = config.model_type;
  const m = new Map<string, GgufValue>([
    ['general.architecture', gguf.string(arch)],
    ['general.type', gguf.string(options.type ?? 'model')],
    ['general.name', gguf.string(options.name)],
  ]);
  if (options.type === 'adapter') return m;
  m.set(`${arch}.block_count`, gguf.u32(config.num_hidden_layers));
  m.set(`${arch}.context_length`, gguf.u32(config.max_position_embeddings));
  m.set(`${arch}.embedding_length`, gguf.u32(config.hidden_size));
  m.set(`${arch}.feed_forward_length`, gguf.u32(config.intermediate_size));
  m.set(`${arch}.attention.head_count`, gguf.u32(config.num_attention_heads));
  m.set(`${arch}.attention.head_count_kv`, gguf.u32(config.num_key_value_heads));
  m.set(`${arch}.rope.freq_base`, gguf.f32(config.rope_theta));
  m.set(`${arch}.attention.layer_norm_rms_epsilon`, gguf.f32(config.rms_norm_eps));
  if (config.head_dim !== config.hidden_size / config.num_attention_heads) {
    m.set(`${arch}.attention.key_length`, gguf.u32(config.head_dim));
    m.set(`${arch}.attention.value_length`, gguf.u32(config.head_dim));
  }
  if (options.fileType !== null) m.set('general.file_type', gguf.u32(options.fileType));
  m.set(`${arch}.vocab_size`, gguf.u32(config.vocab_size));
  m.set(`${arch}.rope.dimension_count`, gguf.u32(config.head_dim));
  m.set('general.quantization_version', gguf.u32(2));
  return m;
}

/** The tensor type convert_hf_to_gguf.py picks: 1-D in F32; 2-D in the output type (Q8_0 rows not a multiple of 32 fall back to F16). */
export function ggufTensorType(type: GgufWriteType, dims: number[]): GgmlType {
  if (dims.length === 1) return GgmlType.F32;
  const tensor = WRITE_TYPES[type].tensor;
  return tensor === GgmlType.Q8_0 && dims[0] % 32 !== 0 ? GgmlType.F16 : tensor;
}

export interface SaveGgufOptions {
  type: GgufWriteType;
  /** general.name. */
  name: string;
  /** The model's tokenizer.json and tokenizer_config.json; without it the file has no vocabulary (llama.cpp refuses it). */
  tokenizer?: { tokenizer: Record<string, unknown>; config: Record<string, unknown> };
}

/** The GGUF tensors of `model` (adapters merged), named, typed and permuted as convert_hf_to_gguf.py writes them. */
export function llamaGgufTensors(model: Llama, type: GgufWriteType): GgufTensorToWrite[] {
  const config = model.config;
  return llamaTorchTensors(model).map(({ name, shape, values }) => {
    const dims = [...shape].reverse();
    const heads = rotaryHeads(config, name);
    return {
      name: ggufTensorName(name),
      dims,
      type: ggufTensorType(type, dims),
      async values() {
        const v = await values();
        return heads === null ? v : permuteRotaryRows(v, heads, shape.length === 2 ? shape[1] : 1);
      },
    };
  });
}

/** Metadata + tensors of a whole-model GGUF. */
export function llamaGgufModel(model: Llama, options: SaveGgufOptions): { metadata: Map<string, GgufValue>; tensors: GgufTensorToWrite[] } {
  const metadata = llamaGgufMetadata(model.config, { name: options.name, fileType: WRITE_TYPES[options.type].fileType });
  if (options.tokenizer) {
    const hf = model.config.hf_extra;
    for (const [k, v] of tokenizerMetadata(options.tokenizer.tokenizer, options.tokenizer.config, model.config.vocab_size, hf)) metadata.set(k, v);
  }
  return { metadata, tensors: llamaGgufTensors(model, options.type) };
}

/** Writes `model` (adapters merged) as one GGUF file. */
export async function saveGgufModel(model: Llama, file: string, options: SaveGgufOptions): Promise<void> {
  const { metadata, tensors } = llamaGgufModel(model, options);
  await writeGguf(file, metadata, tensors);
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/** A GGUF model checked from its header alone: the llama config it describes, or every problem found (one line each). */
export interface GgufModelCheck {
  header: GgufHeader;
  config: LlamaConfig | null;
  issues: string[];
}

/** Tensors llama.cpp files may carry that rankwise has no use for and refuses (features it does not implement). */
const UNSUPPORTED_TENSORS: Record<string, string> = { 'rope_freqs.weight': 'Llama 3.1 rope scaling (rope_freqs) is not implemented' };

/**
 * Checks a GGUF header as a Llama-family model: architecture, hyperparameters, tokenizer metadata, every tensor's
 * name, dims and type. Reads no tensor data. `context` is the load stage's training window.
 */
export async function checkGgufModel(file: string, context?: number): Promise<GgufModelCheck> {
  const header = await readGgufHeader(file);
  const issues: string[] = [];
  const m = header.metadata;
  const at = (key: string) => `${file}: /metadata/${key}`;
  const arch = m.get('general.architecture')?.value;
  if (!(GGUF_ARCHITECTURES as readonly unknown[]).includes(arch)) {
    issues.push(
      `${at('general.architecture')}: found ${JSON.stringify(arch ?? null)}, allowed: ${GGUF_ARCHITECTURES.map((a) => JSON.stringify(a)).join(', ')} (Llama-family decoders)`,
    );
    return { header, config: null, issues: [...issues, ...tensorIssues(header)] };
  }
  const type = m.get('general.type')?.value;
  if (type !== undefined && type !== 'model')
    issues.push(`${at('general.type')}: found ${JSON.stringify(type)}, allowed: "model" (a LoRA adapter GGUF goes with "adapter" or rankwise convert)`);
  const num = (key: string, required: boolean, integer = true): number | undefined => {
    const v = m.get(`${arch}.${key}`);
    if (v === undefined) {
      if (required) issues.push(`${at(`${arch}.${key}`)}: missing, allowed: a number`);
      return undefined;
    }
    if (typeof v.value !== 'number' || (integer && !Number.isInteger(v.value)) || v.type === GgufValueType.ARRAY) {
      issues.push(
        `${at(`${arch}.${key}`)}: found ${JSON.stringify(String(v.value))}${v.type === GgufValueType.ARRAY ? ' (an array: per-layer values are not supported)' : ''}, allowed: ${integer ? 'an integer' : 'a number'}`,
      );
      return undefined;
    }
    return v.value;
  };
  const scaling = m.get(`${arch}.rope.scaling.type`)?.value;
  if (scaling !== undefined && scaling !== 'none')
    issues.push(`${at(`${arch}.rope.scaling.type`)}: found ${JSON.stringify(scaling)}, allowed: "none" (rankwise implements unscaled rotary embeddings only)`);
  const tensors = new Map(header.tensors.map((t) => [t.name, t]));
  const embedding = tensors.get('token_embd.weight');
  if (embedding?.dims.length !== 2)
    issues.push(
      `${file}: /tensors/token_embd.weight: ${embedding ? `dims [${embedding.dims.join(', ')}]` : 'missing'}, allowed: [embedding_length, vocab_size]`,
    );
  const heads = num('attention.head_count', true);
  const raw: JsonObject = {
    model_type: arch as string,
    hidden_size: num('embedding_length', true) ?? 0,
    intermediate_size: num('feed_forward_length', true) ?? 0,
    num_hidden_layers: num('block_count', true) ?? 0,
    num_attention_heads: heads ?? 0,
    num_key_value_heads: num('attention.head_count_kv', false) ?? heads ?? 0,
    rms_norm_eps: num('attention.layer_norm_rms_epsilon', true, false) ?? 0,
    rope_theta: num('rope.freq_base', false, false) ?? 10000,
    max_position_embeddings: num('context_length', true) ?? 0,
    vocab_size: embedding?.dims[1] ?? 0,
    tie_word_embeddings: !tensors.has('output.weight'),
    attention_bias: arch === 'llama' && tensors.has('blk.0.attn_q.bias'),
    mlp_bias: tensors.has('blk.0.ffn_gate.bias'),
    hf_extra: {},
  };
  const keyLength = num('attention.key_length', false);
  const valueLength = num('attention.value_length', false);
  if (keyLength !== undefined) raw.head_dim = keyLength;
  if (valueLength !== undefined && valueLength !== (keyLength ?? (raw.hidden_size as number) / (raw.num_attention_heads as number)))
    issues.push(`${at(`${arch}.attention.value_length`)}: found ${valueLength}, allowed: the key length`);
  if (context !== undefined) {
    if (context > (raw.max_position_embeddings as number))
      issues.push(`${file}: load option "context": found ${context}, allowed: at most ${arch}.context_length (${raw.max_position_embeddings})`);
    else raw.context = context;
  }
  for (const [kind, key] of [
    ['bos', 'bos_token_id'],
    ['eos', 'eos_token_id'],
  ] as const) {
    const id = m.get(`tokenizer.ggml.${kind}_token_id`)?.value;
    if (typeof id === 'number') (raw.hf_extra as JsonObject)[key] = id;
  }
  issues.push(...tokenizerIssues(header));
  issues.push(...tensorIssues(header));
  if (issues.length > 0) return { header, config: null, issues };
  let config: LlamaConfig;
  try {
    config = describeLlama(raw).config as LlamaConfig;
  } catch (error) {
    const pointer = error instanceof ConfigError ? error.pointer : '';
    return {
      header,
      config: null,
      issues: [`${file}: /metadata: the hyperparameters describe no valid model (${pointer} ${(error as Error).message.replace(/^\S+: /, '')})`],
    };
  }
  const ropeDims = num('rope.dimension_count', false);
  if (ropeDims !== undefined && ropeDims !== config.head_dim)
    issues.push(
      `${at(`${arch}.rope.dimension_count`)}: found ${ropeDims}, allowed: the head dimension ${config.head_dim} (partial rotary embeddings are not implemented)`,
    );
  const expected = new Map(huggingFaceTensors(config).map((t) => [ggufTensorName(t.name), [...t.shape].reverse()]));
  for (const [name, dims] of expected) {
    const t = tensors.get(name);
    if (!t) issues.push(`${file}: /tensors/${name}: missing, allowed: dims [${dims.join(', ')}]`);
    else if (t.dims.join(',') !== dims.join(','))
      issues.push(`${file}: /tensors/${name}/dims: found [${t.dims.join(', ')}], allowed: [${dims.join(', ')}] (from the metadata)`);
  }
  for (const name of tensors.keys()) {
    if (!expected.has(name)) issues.push(`${file}: /tensors/${name}: ${UNSUPPORTED_TENSORS[name] ?? `not a tensor of a ${arch} model with this metadata`}`);
  }
  return { header, config: issues.length === 0 ? config : null, issues };
}

/**
 * Loads a GGUF Llama-family model: checks the header (throws every issue, one line each), builds the model and
 * streams every tensor into its variable (dequantized, q/k rows un-permuted, [out, in] → [in, out]). Returns the
 * tokenizer as tokenizer.json + tokenizer_config.json objects.
 */
export async function loadGgufModel(
  file: string,
  options: { context?: number } = {},
): Promise<{ model: Llama; tokenizer: { tokenizer: Record<string, unknown>; config: Record<string, unknown> }; header: GgufHeader }> {
  const check = await checkGgufModel(file, options.context);
  if (!check.config) throw new Error(check.issues.join('\n'));
  const config = check.config;
  const reader = await GgufReader.open(file);
  let model: Llama | null = null;
  try {
    model = new Llama(config, 0, 'zeros');
    const variables = new Map(model.namedParameters());
    for (const { name, shape, linear } of huggingFaceTensors(config)) {
      let values = await reader.read(ggufTensorName(name));
      const heads = rotaryHeads(config, name);
      if (heads !== null) values = permuteRotaryRows(values, heads, shape.length === 2 ? shape[1] : 1, true);
      const variable = variables.get(name);
      if (!variable) throw new Error(`internal: the llama model has no parameter "${name}"`);
      tf.tidy(() => {
        const t = tf.tensor(values, shape, 'float32');
        variable.assign(linear ? t.transpose() : t); // [out, in] → [in, out]
      });
    }
    recordBaseModel(model, relative(process.cwd(), file) || file); // as the load stage gives it
    return { model, tokenizer: tokenizerFromMetadata(check.header), header: check.header };
  } catch (error) {
    model?.dispose();
    throw error;
  } finally {
    await reader.close();
  }
}
