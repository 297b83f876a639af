import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { recordBaseModel } from './base-model.js';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loraLayers } from '@rankwise/lora';
import { ConfigError } from '@rankwise/models/description';
import { buildQuantized, Linear } from '@rankwise/models';
import { quantizableLinear } from '@rankwise/models';
import { quantizeWeight } from '@rankwise/models';
import type { QuantType } from '@rankwise/models';
import { FAMILIES, NULLABLE_KEYS } from '@rankwise/models';
import { describeLlama, familyOf, Llama, LLAMA_MODEL_TYPES, projectionBias, type LlamaConfig } from '@rankwise/models';
import type { JsonObject, JsonValue } from '@rankwise/models';
import { SafetensorsReader, writeSafetensorsStreaming, type PendingTensor } from './safetensors-stream.js';

/**
 * Hugging Face model directories (what `save_pretrained` writes and the Hub serves): config.json, model.safetensors
 * or a sharded model.safetensors.index.json, tokenizer.json. Weights are PyTorch-layout: a Linear's weight is
 * [out, in], rankwise's kernel is its transpose [in, out]; everything else keeps its shape.
 */
export const HF_CONFIG = 'config.json';
export const HF_WEIGHTS = 'model.safetensors';
export const HF_INDEX = 'model.safetensors.index.json';
/** Files a model directory carries besides config and weights, copied along when rankwise saves the model. */
export const HF_TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

/**
 * config.json keys the llama architecture reads for a model type (its family's, nn/families/); every other key is
 * kept in `hf_extra` and written back on save.
 */
const modelKeys = (modelType: LlamaConfig['model_type']): readonly string[] => familyOf({ model_type: modelType }).keys;
/** Tensors some checkpoints carry that are not parameters (older Llama exports saved the rotary table). */
const IGNORED_TENSOR = /(^|\.)rotary_emb\.inv_freq$/;

export interface HuggingFaceModelInfo {
  dir: string;
  /** The llama architecture's config (HF keys, plus `context` and `hf_extra`). */
  config: LlamaConfig;
  /** The Hub id the checkpoint came from (`_name_or_path` in config.json when it is one), else null. */
  hubId: string | null;
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readJson(file: string, missing: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new Error((error as NodeJS.ErrnoException).code === 'ENOENT' ? missing : `${file}: cannot read (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
}

/** True for a config.json written by transformers (it names a model_type; rankwise checkpoints name a format). */
export function isHuggingFaceConfig(raw: unknown): boolean {
  return isObject(raw) && typeof raw.model_type === 'string' && raw.format === undefined;
}

export async function isHuggingFaceDir(dir: string): Promise<boolean> {
  try {
    return isHuggingFaceConfig(JSON.parse(await readFile(join(dir, HF_CONFIG), 'utf8')));
  } catch {
    return false;
  }
}

/** A Hub id looks like `owner/name` (not a local path). */
function hubIdOf(nameOrPath: JsonValue | undefined): string | null {
  if (typeof nameOrPath !== 'string') return null;
  return /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(nameOrPath) && !nameOrPath.startsWith('.') ? nameOrPath : null;
}

/**
 * Reads and checks a model directory's config.json as the llama architecture's config; features rankwise does not
 * implement (rope scaling, sliding windows, other activations, other model types) are refused, naming the key.
 * `context` sets the training/evaluation window (default min(max_position_embeddings, 512)).
 */
export async function readHuggingFaceConfig(dir: string, options: { context?: number } = {}): Promise<HuggingFaceModelInfo> {
  const file = join(dir, HF_CONFIG);
  const missing = (await stat(dir).then(
    () => true,
    () => false,
  ))
    ? `${dir}: not a Hugging Face model directory (${HF_CONFIG} missing)`
    : `${dir}: no such directory (download a model there, e.g. \`huggingface-cli download HuggingFaceTB/SmolLM2-135M --local-dir <dir>\`, or set "huggingface" to a model directory)`;
  const raw = await readJson(file, missing);
  const bad = (pointer: string, found: unknown, allowed: string): never => {
    throw new Error(`${file}: ${pointer}: found ${JSON.stringify(found)}, allowed: ${allowed}`);
  };
  if (!isObject(raw)) return bad('', raw, 'an object');
  if (!(LLAMA_MODEL_TYPES as readonly unknown[]).includes(raw.model_type)) {
    const classes = [...FAMILIES.values()].map((f) => f.architecture).join(', ');
    bad('/model_type', raw.model_type, `${LLAMA_MODEL_TYPES.map((t) => JSON.stringify(t)).join(', ')} (decoders rankwise implements: ${classes})`);
  }
  const modelType = raw.model_type as LlamaConfig['model_type'];
  const architecture = familyOf({ model_type: modelType }).architecture;
  if (raw.architectures !== undefined) {
    const list = raw.architectures;
    if (!Array.isArray(list) || list.length !== 1 || list[0] !== architecture) bad('/architectures', list, `[${JSON.stringify(architecture)}]`);
  }
  if (raw.use_sliding_window === true) bad('/use_sliding_window', true, "false (Qwen's sliding-window attention is not implemented)");
  const config: JsonObject = {};
  const extra: JsonObject = {};
  const keys = modelKeys(modelType);
  for (const [key, value] of Object.entries(raw)) {
    if (keys.includes(key)) {
      if (value !== null || NULLABLE_KEYS.includes(key)) config[key] = value;
    } else extra[key] = value;
  }
  if (raw.rope_parameters !== undefined && raw.rope_parameters !== null) Object.assign(config, ropeFromParameters(raw, bad));
  if (options.context !== undefined) config.context = options.context;
  config.hf_extra = extra;
  try {
    return { dir, config: describeLlama(config).config as LlamaConfig, hubId: hubIdOf(raw._name_or_path) };
  } catch (error) {
    if (error instanceof ConfigError) {
      const detail = error.message.slice(error.message.indexOf(': ') + 2);
      // rope_scaling read from transformers 5's rope_parameters: name the key the file has
      const pointer =
        raw.rope_parameters !== undefined && raw.rope_scaling === undefined
          ? error.pointer.replace(/^\/rope_scaling(?=\/|$)/, '/rope_parameters')
          : error.pointer;
      throw new Error(`${file}: ${pointer === '/context' ? 'load option "context"' : pointer}: ${detail}`);
    }
    throw error;
  }
}

/**
 * transformers 5 writes the rotary settings as one `rope_parameters` object ({"rope_type", "rope_theta", and the
 * schedule's keys}) instead of rope_theta + rope_scaling: read as those two (the object itself stays in hf_extra and
 * is written back). A config.json with both must agree; per-layer-type rope_parameters (Gemma 3) are refused.
 */
function ropeFromParameters(raw: JsonObject, bad: (pointer: string, found: unknown, allowed: string) => never): JsonObject {
  const parameters = raw.rope_parameters;
  if (!isObject(parameters) || typeof parameters.rope_theta !== 'number') {
    return bad('/rope_parameters', parameters, 'an object with a numeric "rope_theta" and a "rope_type" (one rotary setting for every layer)');
  }
  const { rope_theta: theta, ...schedule } = parameters;
  const kind = schedule.rope_type ?? schedule.type ?? 'default';
  const scaling = kind === 'default' && Object.keys(schedule).every((k) => k === 'rope_type' || k === 'type') ? null : schedule;
  if (raw.rope_theta !== undefined && raw.rope_theta !== null && raw.rope_theta !== theta)
    bad('/rope_theta', raw.rope_theta, `${theta} (rope_parameters.rope_theta) or absent`);
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null && JSON.stringify(raw.rope_scaling) !== JSON.stringify(scaling)) {
    bad('/rope_scaling', raw.rope_scaling, `${JSON.stringify(scaling)} (rope_parameters without rope_theta) or absent`);
  }
  return { rope_theta: theta, rope_scaling: scaling };
}

/** Every tensor a checkpoint of `config` holds: HF name, PyTorch shape, and whether rankwise stores it transposed. */
export function huggingFaceTensors(config: LlamaConfig): Array<{ name: string; shape: number[]; linear: boolean }> {
  const model = describeLlama(config);
  const family = familyOf(config);
  const out: Array<{ name: string; shape: number[]; linear: boolean }> = [
    { name: 'model.embed_tokens.weight', shape: [config.vocab_size, config.hidden_size], linear: false },
  ];
  const vector = (name: string, size: number) => out.push({ name, shape: [size], linear: false });
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}`;
    vector(`${p}.input_layernorm.weight`, config.hidden_size);
    for (const site of model.sites.filter((s) => s.layer === l)) {
      out.push({ name: `${site.path}.weight`, shape: [site.outFeatures, site.inFeatures], linear: true });
      if (projectionBias(config, site.path.split('.').slice(-1)[0])) vector(`${site.path}.bias`, site.outFeatures);
      if (site.role === 'attn.o') {
        if (family.qkNorm) {
          vector(`${p}.self_attn.q_norm.weight`, config.head_dim);
          vector(`${p}.self_attn.k_norm.weight`, config.head_dim);
        }
        vector(`${p}.post_attention_layernorm.weight`, config.hidden_size);
        if (family.sandwichNorms) {
          vector(`${p}.pre_feedforward_layernorm.weight`, config.hidden_size);
          vector(`${p}.post_feedforward_layernorm.weight`, config.hidden_size);
        }
      }
    }
  }
  vector('model.norm.weight', config.hidden_size);
  if (!config.tie_word_embeddings) out.push({ name: 'lm_head.weight', shape: [config.vocab_size, config.hidden_size], linear: true });
  return out;
}

/** The weight files of a model directory and which file holds each tensor. */
async function weightFiles(dir: string): Promise<Map<string, string>> {
  const indexFile = join(dir, HF_INDEX);
  if (await stat(indexFile).catch(() => null)) {
    const index = await readJson(indexFile, '');
    const map = isObject(index) ? index.weight_map : undefined;
    if (!isObject(map)) throw new Error(`${indexFile}: /weight_map: found ${JSON.stringify(map)}, allowed: an object of tensor name → shard file`);
    const out = new Map<string, string>();
    for (const [name, shard] of Object.entries(map)) {
      if (typeof shard !== 'string' || shard.includes('/') || shard.includes('\\')) {
        throw new Error(`${indexFile}: /weight_map/${name}: found ${JSON.stringify(shard)}, allowed: a file name in ${dir}`);
      }
      out.set(name, join(dir, shard));
    }
    return out;
  }
  const single = join(dir, HF_WEIGHTS);
  if (!(await stat(single).catch(() => null))) {
    const bin = await stat(join(dir, 'pytorch_model.bin')).catch(() => null);
    throw new Error(
      `${dir}: no ${HF_WEIGHTS} or ${HF_INDEX}${bin ? ' (pytorch_model.bin is a pickle rankwise does not read: convert it to safetensors)' : ''}`,
    );
  }
  return new Map([[single, single]]);
}

/**
 * Opens every weight file's header and checks it against `config`: every tensor present once with its shape and a
 * float dtype, nothing unexpected. Reads no tensor data, so validation can call it. The caller closes the readers.
 */
export async function openHuggingFaceWeights(
  dir: string,
  config: LlamaConfig,
): Promise<{ readers: Map<string, SafetensorsReader>; where: Map<string, SafetensorsReader> }> {
  const files = await weightFiles(dir);
  const readers = new Map<string, SafetensorsReader>();
  try {
    for (const file of new Set(files.values())) readers.set(file, await SafetensorsReader.open(file));
    const where = new Map<string, SafetensorsReader>();
    for (const reader of readers.values()) {
      for (const name of reader.entries.keys()) {
        const other = where.get(name);
        if (other) throw new Error(`${reader.file}: tensor "${name}" is also in ${other.file}`);
        where.set(name, reader);
      }
    }
    const expected = huggingFaceTensors(config);
    const known = new Set(expected.map((t) => t.name));
    for (const { name, shape } of expected) {
      const reader = where.get(name);
      if (!reader) throw new Error(`${dir}: tensor "${name}" [${shape.join(', ')}] is missing from the weights`);
      const entry = reader.entries.get(name)!;
      if (entry.shape.join(',') !== shape.join(',')) {
        throw new Error(`${reader.file}: tensor "${name}": shape [${entry.shape.join(', ')}], config.json implies [${shape.join(', ')}]`);
      }
    }
    for (const [name, reader] of where) {
      const tiedCopy = name === 'lm_head.weight' && config.tie_word_embeddings;
      if (!known.has(name) && !tiedCopy && !IGNORED_TENSOR.test(name)) {
        throw new Error(`${reader.file}: unexpected tensor "${name}" (not a parameter of a ${config.model_type} model with this config.json)`);
      }
    }
    return { readers, where };
  } catch (error) {
    await Promise.all([...readers.values()].map((r) => r.close()));
    throw error;
  }
}

/**
 * Builds the model from config.json and streams every tensor from disk into its variable, one at a time
 * (F32, BF16 or F16 widened to float32; Linear weights transposed from [out, in] to [in, out]). With `quantize`, the
 * decoder layers' Linear weights are quantized as they are read (in their file layout [out, in]) and never become
 * float32 tensors: peak memory is the quantized model plus one tensor.
 */
export async function loadHuggingFaceModel(
  dir: string,
  options: { context?: number; quantize?: QuantType } = {},
): Promise<{ model: Llama; info: HuggingFaceModelInfo }> {
  const info = await readHuggingFaceConfig(dir, options);
  const { readers, where } = await openHuggingFaceWeights(dir, info.config);
  let model: Llama | null = null;
  const type = options.quantize;
  try {
    const build = () => new Llama(info.config, 0, 'zeros');
    model = type ? buildQuantized(type, quantizableLinear, build) : build();
    const variables = new Map(model.namedParameters());
    const quantized = new Map<string, Linear>(
      model.namedModules().flatMap(([path, m]): Array<[string, Linear]> => (m instanceof Linear && m.quantized ? [[`${path}.weight`, m]] : [])),
    );
    for (const { name, shape, linear } of huggingFaceTensors(info.config)) {
      const values = await where.get(name)!.read(name);
      const target = quantized.get(name);
      if (type && target) {
        target.setQuantized(quantizeWeight(type, values, shape[0], shape[1])); // [out, in], as bitsandbytes quantizes it
        continue;
      }
      const variable = variables.get(name);
      if (!variable) throw new Error(`internal: the llama model has no parameter "${name}"`);
      tf.tidy(() => {
        const t = tf.tensor(values, shape, 'float32');
        variable.assign(linear ? t.transpose() : t); // [out, in] → [in, out]
      });
    }
    // PEFT's base_model_name_or_path, as the load stage gives it: the Hub id, else the path from the working directory
    recordBaseModel(model, info.hubId ?? (relative(process.cwd(), dir) || '.'));
    return { model, info };
  } catch (error) {
    model?.dispose();
    throw error;
  } finally {
    await Promise.all([...readers.values()].map((r) => r.close()));
  }
}

/**
 * config.json for `config` as transformers writes it: the original's other keys kept (bos/eos ids, …), dtype
 * float32, and no `_name_or_path` (the saved weights are no longer the Hub model's).
 */
export function huggingFaceConfigJson(config: LlamaConfig): JsonObject {
  const { _name_or_path: _dropped, dtype: _dtype, ...kept } = config.hf_extra;
  const out: JsonObject = { ...kept, architectures: [familyOf(config).architecture], model_type: config.model_type };
  for (const key of modelKeys(config.model_type)) {
    if (key === 'model_type') continue;
    if (key === 'head_dim' && config.head_dim === config.hidden_size / config.num_attention_heads && config.hf_extra.head_dim === undefined) continue;
    out[key] = config[key as keyof LlamaConfig];
  }
  out.torch_dtype = 'float32';
  if (config.hf_extra.dtype !== undefined) out.dtype = 'float32'; // transformers 4.56+ writes `dtype`
  return out;
}

export interface SaveHuggingFaceOptions {
  /** Copy tokenizer.json and friends from this model directory. */
  tokenizerFrom?: string;
}

/**
 * PyTorch-layout values ([out, in] for Linear weights) of every tensor, read one at a time, with LoRA merged in as the
 * layer computes with it (`mergedWeight`, DoRA included): what a merged HF directory and a GGUF model hold.
 */
export function llamaTorchTensors(model: Llama): Array<{ name: string; shape: number[]; values(): Promise<Float32Array> }> {
  const lora = new Map(loraLayers(model));
  const parameters = new Map(model.namedParameters());
  return huggingFaceTensors(model.config).map(({ name, shape, linear }) => {
    const cut = name.lastIndexOf('.');
    const modulePath = name.slice(0, cut);
    const adapter = lora.get(modulePath);
    const module = adapter ? adapter.base : model.getSubmodule(modulePath);
    const variable = name.endsWith('.bias') ? (module as Linear).bias : module instanceof Linear ? module.weight : parameters.get(name);
    if (!variable) throw new Error(`internal: no parameter for "${name}"`);
    return {
      name,
      shape,
      async values() {
        const t = tf.tidy(() => {
          if (!linear) return variable.clone();
          const weight = adapter && !name.endsWith('.bias') ? adapter.mergedWeight() : variable; // [in, out]
          return weight.transpose(); // [out, in]
        });
        try {
          const data = await t.data();
          return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
        } finally {
          t.dispose();
        }
      },
    };
  });
}

/**
 * Writes `model` as a Hugging Face model directory: config.json, model.safetensors (F32, PyTorch layout [out, in],
 * HF tensor names, metadata format "pt") — what `AutoModelForCausalLM.from_pretrained(dir)` loads. LoRA layers are
 * written merged (W + scaling·A·B, DoRA's magnitude applied); the model itself is not changed. Tensors are read and written one at a time.
 */
export async function saveHuggingFaceModel(model: Llama, dir: string, options: SaveHuggingFaceOptions = {}): Promise<void> {
  const tensors: PendingTensor[] = llamaTorchTensors(model);
  await mkdir(dir, { recursive: true });
  await writeSafetensorsStreaming(join(dir, HF_WEIGHTS), tensors, { format: 'pt' });
  await writeFile(join(dir, HF_CONFIG), `${JSON.stringify(huggingFaceConfigJson(model.config), null, 2)}\n`);
  if (options.tokenizerFrom) {
    for (const file of HF_TOKENIZER_FILES) {
      await copyFile(join(options.tokenizerFrom, file), join(dir, file)).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }
}
