import { existsSync, readFileSync } from 'node:fs';
import { freezeLoadedAdapters } from '@rankwise/lora';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { ggmlTypeName, readGgufHeader } from '@rankwise/gguf';
import { Type, type Static } from '@sinclair/typebox';
import { CorpusSchema } from '../contracts/data-schema.js';
import { describedRef, StringEnum } from '../contracts/schema-helpers.js';
import { defineStage, type StageCheckContext, type StageContext } from '../contracts/stage.js';
import { loadCheckpoint, readCheckpointConfig } from '@rankwise/formats';
import { isHuggingFaceDir, loadHuggingFaceModel } from '@rankwise/formats';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, loadAdapter, planAdapter, type PlannedAdapterSite } from '@rankwise/formats';
import { activeAdapters, adapterNames, setAdapter } from '@rankwise/lora';
import { CombineError, checkCombination, COMBINATION_TYPES, type SiteShape } from '@rankwise/lora';
import { freeze } from '@rankwise/lora';
import { loraLayers } from '@rankwise/lora';
import { initMovesBase } from '@rankwise/lora';
import { DEFAULT_ADAPTER } from '@rankwise/lora';
import { addWeightedAdapter } from '@rankwise/lora';
import type { Module } from '@rankwise/models';
import { checkGgufAdapter, ggufAdapterToPeft, hfModulePath } from '@rankwise/formats';
import { checkGgufModel, loadGgufModel } from '@rankwise/formats';
import type { LoraLayer } from '@rankwise/lora';
import { describeLlama, Llama, type LlamaConfig } from '@rankwise/models';
import type { Model } from '@rankwise/models';
import { checkHuggingFaceDir } from '@rankwise/formats';
import { loadTfjsModel } from '@rankwise/formats';
import { describeTfjsLoad } from './tfjs-load-check.js';
import { parameterReport } from '@rankwise/lora';
import { createModel, describeModel } from '@rankwise/models';
import { buildQuantized } from '@rankwise/models';
import { quantizableLinear, quantizeModel } from '@rankwise/models';
import { isConfigError } from '@rankwise/models/description';
import type { JsonObject } from '@rankwise/models';
import type { Site } from '@rankwise/models';
import { checkLoadFiles } from './input-files.js';

const ADAPTER_NAME_PATTERN = '^[A-Za-z0-9_-]{1,64}$';

/** One `combine` entry: PEFT's add_weighted_adapter arguments (lora/combine.ts). */
const CombineSpec = Type.Object(
  {
    adapters: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'The adapters to combine: names from "adapters", "default" for "adapter", or earlier "combine" entries.',
    }),
    weights: Type.Array(Type.Number(), { minItems: 1, description: 'One weight per adapter (may be negative).' }),
    combination: Type.Optional(
      Type.Union(
        COMBINATION_TYPES.map((t) => Type.Literal(t)),
        { description: 'PEFT\'s combination_type (default "svd").' },
      ),
    ),
    density: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, description: 'ties, dare_*, magnitude_prune and their _svd forms: the fraction of values kept.' }),
    ),
    majoritySign: Type.Optional(
      Type.Union([Type.Literal('total'), Type.Literal('frequency')], {
        description: 'ties, dare_ties and their _svd forms: how the sign is elected (default "total").',
      }),
    ),
    svdRank: Type.Optional(Type.Integer({ minimum: 1, description: 'svd types: the new rank (default: the largest source rank).' })),
    svdClamp: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 1,
        description: "svd types: PEFT's svd_clamp, the quantile of the new factors' values both are clamped to (± that value).",
      }),
    ),
    seed: Type.Optional(Type.Integer({ minimum: 0, description: 'DARE types: the seed of the random keep-masks (default: the stage seed).' })),
  },
  { additionalProperties: false },
);

const LoadOptions = Type.Object(
  {
    architecture: Type.Optional(Type.String({ description: 'A zoo architecture, initialised from the pipeline seed.' })),
    config: Type.Optional(Type.Unsafe<JsonObject>({ type: 'object', description: 'The architecture\'s config (e.g. {"sizes": [784, 256, 256, 10]}).' })),
    checkpoint: Type.Optional(
      Type.String({ minLength: 1, description: 'A checkpoint directory (config.json + model.safetensors), relative to the pipeline file.' }),
    ),
    from: Type.Optional(
      Type.String({ minLength: 1, description: 'Another pipeline file whose merged model to load; it runs first when its result is missing or stale.' }),
    ),
    tfjs: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A TensorFlow.js LayersModel: its model.json (or a directory holding one), relative to the pipeline file. Dense, Conv2D and Embedding layers become LoRA sites named by their layer names.',
      }),
    ),
    huggingface: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A Hugging Face model directory of a Llama-family model (config.json, model.safetensors or model.safetensors.index.json with its shards, tokenizer.json), relative to the pipeline file; its tokenizer becomes the vocabulary.',
      }),
    ),
    gguf: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A GGUF file of a Llama-family model (general.architecture "llama" or "qwen2"; tensors F32, F16, BF16, Q8_0, Q4_0, Q4_K or Q6_K, dequantized to float32) with a gpt2 BPE tokenizer, relative to the pipeline file; its tokenizer becomes the vocabulary.',
      }),
    ),
    context: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 4194304,
        description:
          'Llama-family models (huggingface, gguf): the window length in tokens that training and evaluation use (at most max_position_embeddings; default min(max_position_embeddings, 512)).',
      }),
    ),
    quantize: Type.Optional(
      StringEnum(['nf4', 'int8', 'bf16'], {
        description:
          'Store the frozen base Linear weights quantized (QLoRA): nf4 (4-bit NormalFloat with double quantization, as bitsandbytes), int8 (absmax per row) or bf16. Every Linear but the output head; LoRA factors, norms, biases and embeddings stay float32. A quantized base trains adapters only (no unfreeze), and is not merged or saved whole (save the adapter). Hugging Face directories and zoo architectures are quantized as they load, without a float32 copy.',
      }),
    ),
    adapter: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'A PEFT-layout adapter directory (the adapter named "default"), or a GGUF LoRA adapter file (*.gguf) for a Llama-family model, to put on the loaded model.',
      }),
    ),
    adapters: Type.Optional(
      Type.Record(Type.String({ pattern: ADAPTER_NAME_PATTERN }), Type.String({ minLength: 1 }), {
        minProperties: 1,
        additionalProperties: false,
        description:
          'Named PEFT-layout adapter directories to put on the model side by side, e.g. {"sql": "./a", "chat": "./b"} (PEFT\'s load_adapter): one base, no copies. The first loaded is active unless "active" says otherwise.',
      }),
    ),
    combine: Type.Optional(
      Type.Record(Type.String({ pattern: ADAPTER_NAME_PATTERN }), CombineSpec, {
        minProperties: 1,
        additionalProperties: false,
        description:
          'New adapters made from loaded ones, as PEFT\'s add_weighted_adapter, e.g. {"mix": {"adapters": ["sql", "chat"], "weights": [0.7, 0.3], "combination": "ties", "density": 0.5}}; in order, so a later one may combine an earlier one.',
      }),
    ),
    active: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })], {
        description:
          'The active adapter(s) after loading (default: the first loaded); several active adapters add their outputs, as PEFT\'s set_adapter([...]). With "adapters" the base is frozen and training trains the active ones only.',
      }),
    ),
    vocabulary: Type.Optional(
      describedRef(
        CorpusSchema,
        'Language models built from an architecture: the corpus whose characters form the vocabulary (at most config.vocabSize ids, id 0 = unknown).',
      ),
    ),
    tokenizer: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Language models built from an architecture (llama): a directory with a tokenizer.json (and tokenizer_config.json: special tokens, chat template), relative to the pipeline file; it becomes the vocabulary and is saved with the model.',
      }),
    ),
  },
  {
    description: 'Where the model comes from: exactly one of architecture, checkpoint, from, tfjs, huggingface, gguf.',
    additionalProperties: false,
    oneOf: [
      {
        required: ['architecture'],
        not: { anyOf: [{ required: ['checkpoint'] }, { required: ['from'] }, { required: ['tfjs'] }, { required: ['huggingface'] }, { required: ['gguf'] }] },
      },
      ...(['checkpoint', 'from', 'tfjs', 'huggingface', 'gguf'] as const).map((source) => ({
        required: [source],
        not: {
          anyOf: ['architecture', 'checkpoint', 'from', 'tfjs', 'huggingface', 'gguf', 'config', 'vocabulary', 'tokenizer']
            .filter((k) => k !== source)
            .map((k) => ({ required: [k] })),
        },
      })),
    ],
    'x-message': 'give exactly one of "architecture" (with optional "config" and "vocabulary"), "checkpoint", "from", "tfjs", "huggingface" or "gguf"',
  },
);
export type LoadOptions = Static<typeof LoadOptions>;

export interface LoadResult {
  /** Where the base weights came from. */
  origin: string;
  architecture: string;
  totalParams: number;
  /** LoRA layers put on the model from `adapter` / `adapters`. */
  adapterLayers: number;
  /** Every adapter on the model after loading and combining (PEFT's names; "default" for `adapter`). */
  adapterNames: string[];
  /** The active adapters. */
  activeAdapters: string[];
  vocabularySize: number | null;
}

/** A character vocabulary from the corpus, no larger than the model's vocabSize. */
async function buildVocabulary(options: LoadOptions, ctx: StageContext): Promise<void> {
  const model = ctx.model.require('load');
  const maxSize = (model.config as { vocabSize?: number }).vocabSize;
  const text = await ctx.data.source.corpusText(options.vocabulary!, ctx.pipeline.dir);
  ctx.vocabulary.set(await ctx.data.source.buildVocabulary(text, maxSize));
}

/** Builds a zoo model from the seed, reads a checkpoint, or loads another pipeline's result (running it if stale). */
export default defineStage<LoadOptions, LoadResult, 'load'>({
  name: 'load',
  description: 'Where the model comes from: exactly one of architecture, checkpoint, from, tfjs, huggingface, gguf.',
  options: LoadOptions,
  requires: [],
  provides: ['model'],
  async check(options, ctx) {
    if (ctx.index !== 0) {
      ctx.issue('/stage', 'found a second "load"; allowed: one "load", as the first stage');
      return;
    }
    if (options.architecture !== undefined) {
      try {
        const model = describeModel(options.architecture, options.config ?? {});
        if (model.task === 'language-model' && !options.vocabulary && !options.tokenizer) {
          ctx.issue(
            '',
            `a ${options.architecture} language model built from scratch needs "vocabulary": the corpus whose characters it reads (or "tokenizer": a directory with a tokenizer.json)`,
          );
        }
        if (options.tokenizer !== undefined)
          await checkTokenizerDir(resolve(ctx.dir, options.tokenizer), model.vocabSize, options.vocabulary !== undefined, ctx);
        ctx.setModel(model);
      } catch (error) {
        if (isConfigError(error)) ctx.issue(`/config${error.pointer}`, error.message.replace(/^\S+: /, ''));
        else ctx.issue('/architecture', (error as Error).message);
      }
    } else if (options.huggingface !== undefined || (options.checkpoint !== undefined && (await isHuggingFaceDir(resolve(ctx.dir, options.checkpoint))))) {
      const key = options.huggingface !== undefined ? '/huggingface' : '/checkpoint';
      try {
        const { model, hashFiles } = await checkHuggingFaceDir(resolve(ctx.dir, (options.huggingface ?? options.checkpoint)!), options.context);
        for (const file of hashFiles) await ctx.hashFile(file);
        ctx.setModel(model);
        await ctx.tokenizer(resolve(ctx.dir, (options.huggingface ?? options.checkpoint)!), key); // builds, as the run will
      } catch (error) {
        ctx.issue(key, (error as Error).message);
      }
    } else if (options.gguf !== undefined) {
      // Validation reads the header only: architecture, hyperparameters, tokenizer, every tensor's name, dims and type.
      const file = resolve(ctx.dir, options.gguf);
      try {
        const check = await checkGgufModel(file, options.context);
        for (const issue of check.issues) ctx.issue('/gguf', issue);
        if (check.config) {
          await ctx.hashFile(file);
          ctx.setModel(describeLlama(check.config));
        }
      } catch (error) {
        ctx.issue('/gguf', describeReadError(file, error));
      }
    } else if (options.context !== undefined) {
      ctx.issue('/context', 'found "context" for a model that is not loaded from a Hugging Face directory or GGUF file; allowed: with "huggingface" or "gguf"');
    } else if (options.tfjs !== undefined) {
      const model = await describeTfjsLoad(options.tfjs, ctx.dir, (pointer, message) => ctx.issue(pointer, message), ctx.hashFile);
      if (model) ctx.setModel(model);
    } else if (options.checkpoint !== undefined) {
      const dir = resolve(ctx.dir, options.checkpoint);
      try {
        const config = await readCheckpointConfig(dir);
        await ctx.hashFile(resolve(dir, 'model.safetensors'));
        ctx.setModel(describeModel(config.architecture, config.config));
      } catch (error) {
        ctx.issue('/checkpoint', (error as Error).message);
      }
    } else {
      const dependency = await ctx.dependency(options.from!, '/from');
      if (dependency?.output) ctx.setModel(dependency.output);
    }
    if (options.quantize !== undefined) {
      if (options.tfjs !== undefined)
        ctx.issue(
          '/quantize',
          `found "${options.quantize}" for a TensorFlow.js LayersModel; allowed: models loaded with "architecture", "checkpoint", "from", "huggingface" or "gguf"`,
        );
      else if (ctx.model && !ctx.model.sites.some((s) => quantizableLinear(s)))
        ctx.issue(
          '/quantize',
          `found "${options.quantize}", but this ${ctx.model.architecture} model has no Linear weight to quantize besides its output head`,
        );
      else ctx.provide('quantized');
    }
    if (ctx.model && options.adapter && isGgufFile(options.adapter)) await checkGgufAdapterFile(resolve(ctx.dir, options.adapter), ctx);
    if (ctx.model && (options.adapter || options.adapters))
      await checkAdapters(options, ctx.model.sites, (ctx.model.config as { model_type?: unknown }).model_type, ctx);
    else if (options.combine || options.active)
      ctx.issue(options.combine ? '/combine' : '/active', 'found without "adapter" or "adapters"; allowed: with adapters to combine or activate');
    // the files the run reads, against the model: weight headers, every adapter tensor, a text vocabulary
    if (ctx.model) await checkLoadFiles(options, ctx.model, ctx);
  },
  async run(options, ctx) {
    const dir = ctx.pipeline.dir;
    if (options.tfjs !== undefined) {
      const model = await loadTfjsModel(resolve(dir, options.tfjs), ctx.seed);
      ctx.model.set(model, model.origin.source);
    } else if (options.architecture !== undefined) {
      const seed = ctx.pipeline.seed;
      const build = () => createModel(options.architecture!, options.config ?? {}, seed);
      const model = options.quantize ? buildQuantized(options.quantize, quantizableLinear, build) : build();
      ctx.model.set(model, `${options.architecture} (built from its config, seed ${seed})`);
      if (options.vocabulary) await buildVocabulary(options, ctx);
      if (options.tokenizer) {
        if (!ctx.data.source.tokenizer) throw new Error('load: the data source reads no tokenizer.json (update @rankwise/datasets)');
        ctx.vocabulary.set(await ctx.data.source.tokenizer(resolve(dir, options.tokenizer)));
      }
    } else if (options.gguf !== undefined) {
      await loadGguf(resolve(dir, options.gguf), options.context, ctx);
    } else if (options.huggingface !== undefined) {
      await loadHuggingFace(resolve(dir, options.huggingface), options.context, ctx, options.quantize);
    } else {
      const checkpointDir = options.checkpoint !== undefined ? resolve(dir, options.checkpoint) : await ctx.pipeline.dependencyModel(ctx.index, options.from);
      if (await isHuggingFaceDir(checkpointDir)) {
        await loadHuggingFace(checkpointDir, options.context, ctx, options.quantize);
      } else {
        const { model, config } = await loadCheckpoint(checkpointDir);
        ctx.model.set(model, checkpointDir, relative(process.cwd(), checkpointDir) || '.');
        if (config.extra.vocabulary !== undefined) ctx.vocabulary.set(await ctx.data.source.vocabularyFromJSON(config.extra.vocabulary));
      }
    }
    const model = ctx.model.require('load');
    if (options.quantize) {
      // Built or streamed quantized already (architecture, huggingface); other sources are quantized here, layer by layer.
      const q = await quantizeModel(model, options.quantize);
      const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
      ctx.progress.info(`load: ${q.layers} Linear weights stored ${q.type}: ${mib(q.bytes)} MiB (float32: ${mib(4 * q.values)} MiB)`);
    }
    if (options.adapter !== undefined) {
      const layers = isGgufFile(options.adapter)
        ? await loadGgufAdapter(model, resolve(dir, options.adapter), ctx.seed)
        : await loadAdapter(model, resolve(dir, options.adapter), ctx.seed);
      ctx.progress.info(`load: adapter with ${layers.length} LoRA layers from ${options.adapter}`);
    }
    await loadNamedAdapters(options, model, ctx);
    // PEFT's from_pretrained (is_trainable=False): loaded adapters are frozen until a train stage trains them
    if (options.adapter !== undefined || options.adapters !== undefined) freezeLoadedAdapters(model);
    const adapterLayers = loraLayers(model).length;
    const report = parameterReport(model);
    const vocabulary = ctx.vocabulary.current();
    if (vocabulary && vocabulary.unit !== 'token') ctx.progress.info(`load: vocabulary of ${vocabulary.size} ids (id 0 = unknown)`);
    const origin = options.architecture !== undefined ? ctx.model.origin : `${model.architecture} from ${ctx.model.origin}`;
    ctx.progress.info(`load: ${origin}; ${report.total.toLocaleString('en-US')} parameters`);
    return {
      origin: ctx.model.origin,
      architecture: model.architecture,
      totalParams: report.total,
      adapterLayers,
      adapterNames: adapterNames(model),
      activeAdapters: activeAdapters(model),
      vocabularySize: vocabulary?.size ?? null,
    };
  },
});

/** load.tokenizer: a tokenizer.json that parses, names a model, and whose ids fit the model's vocabulary. */
async function checkTokenizerDir(dir: string, vocabSize: number | undefined, withVocabulary: boolean, ctx: StageCheckContext): Promise<void> {
  if (withVocabulary) ctx.issue('/tokenizer', 'found both "vocabulary" and "tokenizer"; allowed: one of them');
  const file = join(dir, 'tokenizer.json');
  let json: { model?: { vocab?: unknown }; added_tokens?: Array<{ id?: unknown }> };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    ctx.issue(
      '/tokenizer',
      code === 'ENOENT'
        ? `${file}: no such file (a tokenizer directory holds tokenizer.json)`
        : `${file}: not a valid tokenizer.json (${(error as Error).message})`,
    );
    return;
  }
  const vocab = json.model?.vocab;
  if (typeof json.model !== 'object' || json.model === null) {
    ctx.issue('/tokenizer', `${file}: /model: missing; a tokenizer.json names its model (BPE, WordPiece, Unigram…)`);
    return;
  }
  const ids = [
    ...(vocab && typeof vocab === 'object' && !Array.isArray(vocab) ? Object.values(vocab) : []),
    ...(json.added_tokens ?? []).map((t) => t.id),
  ].filter((id): id is number => typeof id === 'number');
  const size = ids.length === 0 ? 0 : Math.max(...ids) + 1;
  if (vocabSize !== undefined && size > vocabSize)
    ctx.issue('/tokenizer', `${file}: the tokenizer has ids up to ${size - 1}, but the model's vocab_size is ${vocabSize}`);
  await ctx.hashFile(file);
  if (existsSync(join(dir, 'tokenizer_config.json'))) await ctx.hashFile(join(dir, 'tokenizer_config.json'));
  await ctx.tokenizer(dir, '/tokenizer');
}

/** A Llama-family model from a Hugging Face directory, streamed into variables; its tokenizer.json is the vocabulary. */
async function loadHuggingFace(modelDir: string, context: number | undefined, ctx: StageContext, quantize?: LoadOptions['quantize']): Promise<void> {
  const source = ctx.data.source;
  if (!source.tokenizer) throw new Error('load: the data source reads no tokenizer.json (update @rankwise/datasets)');
  const vocabulary = await source.tokenizer(modelDir);
  const { model, info } = await loadHuggingFaceModel(modelDir, { context, quantize });
  const shown = relative(process.cwd(), modelDir) || '.';
  // PEFT's base_model_name_or_path: the Hub id when config.json names one, else the path from the working directory.
  ctx.model.set(model, info.hubId === null ? shown : `${shown} (${info.hubId})`, info.hubId ?? shown);
  ctx.vocabulary.set(vocabulary);
  ctx.progress.info(
    `load: ${model.config.model_type} model, ${model.config.num_hidden_layers} layers, context ${model.config.context} tokens; tokenizer of ${vocabulary.size.toLocaleString('en-US')} ids`,
  );
}

/** Named adapters (PEFT's load_adapter), then combinations (add_weighted_adapter), then the active set (set_adapter). */
async function loadNamedAdapters(options: LoadOptions, model: Module, ctx: StageContext): Promise<void> {
  const dir = ctx.pipeline.dir;
  for (const [name, path] of Object.entries(options.adapters ?? {})) {
    const layers = await loadAdapter(model, resolve(dir, path), ctx.seed, name);
    ctx.progress.info(`load: adapter "${name}" with ${layers.length} LoRA layers from ${path}`);
  }
  for (const [name, spec] of Object.entries(options.combine ?? {})) {
    const sites = await addWeightedAdapter(model, name, { ...spec, seed: spec.seed ?? ctx.seed });
    const how = spec.adapters.map((a, i) => `${spec.weights[i]}·${a}`).join(' + ');
    ctx.progress.info(
      `load: adapter "${name}" = ${spec.combination ?? 'svd'} of ${how} on ${sites.length} sites (rank ${[...new Set(sites.map((s) => s.r))].join('/')})`,
    );
  }
  if (options.active !== undefined || options.adapters !== undefined) {
    // PEFT's from_pretrained / load_adapter: the base is frozen; set_adapter makes the active adapters trainable.
    freeze(model);
    setAdapter(model, options.active ?? activeAdapters(model));
    ctx.progress.info(
      `load: active adapter${activeAdapters(model).length > 1 ? 's' : ''} ${activeAdapters(model).join(' + ')} (of ${adapterNames(model).join(', ')})`,
    );
  }
}

/** What the combination checks need of a planned adapter: each site's kind, A's rows, B's columns, rank, variant. */
function shapesOf(planned: readonly PlannedAdapterSite[]): Map<string, SiteShape> {
  return new Map(
    planned.map((s) => {
      const fanIn = s.kind === 'conv2d' && s.kernelSize ? s.kernelSize[0] * s.kernelSize[1] * s.inFeatures : s.inFeatures;
      return [s.path, { kind: s.kind, fanIn, out: s.outFeatures, r: s.r, variant: s.variant }];
    }),
  );
}

/**
 * load.adapter / load.adapters: PEFT's rules (target_modules, rank/alpha patterns) against the model's sites, from the
 * configs and weight headers; then `combine` (names, weights, ranks, density…) and `active` against what was planned.
 */
async function checkAdapters(options: LoadOptions, sites: readonly Site[], modelType: unknown, ctx: StageCheckContext): Promise<void> {
  const shapes = new Map<string, Map<string, SiteShape>>();
  const failed = new Set<string>();
  let moving: string | null = null;
  const plan = async (name: string, path: string, pointer: string, hash: boolean): Promise<void> => {
    const dir = resolve(ctx.dir, path);
    try {
      const planned = await planAdapter(dir, sites, typeof modelType === 'string' ? modelType : undefined);
      for (const site of planned) ctx.adaptedSites.add(site.path);
      if (planned.some((s) => initMovesBase(s.init))) moving = pointer;
      shapes.set(name, shapesOf(planned));
      if (hash) for (const file of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) await ctx.hashFile(join(dir, file));
    } catch (error) {
      failed.add(name);
      const message = (error as Error).message;
      // Tensor-level defects of the weights (shapes, unknown sites, foreign names) are listed in full, every tensor, by
      // checkLoadFiles (stages/input-files.ts) under the same pointer: reported there, not twice.
      if (message.startsWith(`${join(dir, ADAPTER_WEIGHTS)}: tensor "`)) return;
      ctx.issue(pointer, message);
    }
  };
  // A GGUF adapter file is checked by checkGgufAdapterFile; here it is only a known name.
  if (options.adapter !== undefined && isGgufFile(options.adapter)) failed.add(DEFAULT_ADAPTER);
  else if (options.adapter !== undefined) await plan(DEFAULT_ADAPTER, options.adapter, '/adapter', false);
  for (const [name, path] of Object.entries(options.adapters ?? {})) {
    if (name === DEFAULT_ADAPTER && options.adapter !== undefined) {
      ctx.issue(`/adapters/${name}`, 'found "default" beside "adapter", which is the adapter named "default"; allowed: another name');
      continue;
    }
    await plan(name, path, `/adapters/${name}`, true);
  }
  if (moving !== null && shapes.size + failed.size > 1) {
    ctx.issue(
      moving,
      'an adapter saved with init_lora_weights "pissa" / "olora" (not converted) needs the base W it moved; it cannot be loaded beside other adapters',
    );
  }
  if (shapes.size > 0) ctx.provide('adapter');
  if (options.adapters !== undefined) {
    ctx.provide('named-adapters');
    ctx.provide('frozen');
  }
  for (const [name, spec] of Object.entries(options.combine ?? {})) {
    if (spec.adapters.some((a) => failed.has(a))) {
      failed.add(name);
      continue;
    }
    try {
      shapes.set(name, checkCombination(name, spec, shapes, [...shapes.keys(), ...failed]).sites);
    } catch (error) {
      if (!(error instanceof CombineError)) throw error;
      ctx.issue(`/combine/${name}${error.pointer === '/name' ? '' : error.pointer}`, error.detail);
      failed.add(name);
    }
  }
  const active = options.active === undefined ? [] : typeof options.active === 'string' ? [options.active] : options.active;
  const known = [...shapes.keys(), ...failed];
  active.forEach((name, i) => {
    const pointer = typeof options.active === 'string' ? '/active' : `/active/${i}`;
    if (!known.includes(name)) ctx.issue(pointer, `found ${JSON.stringify(name)}; allowed: ${known.join(', ')}`);
    else if (active.indexOf(name) !== i) ctx.issue(pointer, `adapter "${name}" is named twice`);
  });
}

const isGgufFile = (path: string): boolean => path.toLowerCase().endsWith('.gguf');

/** A file that cannot be opened or is no GGUF at all: one line naming it. */
function describeReadError(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${file}: no such file`;
  return (error as Error).message.startsWith(file) ? (error as Error).message : `${file}: ${(error as Error).message}`;
}

/** A Llama-family model from a GGUF file (dequantized to float32); its gpt2 BPE tokenizer is the vocabulary. */
async function loadGguf(file: string, context: number | undefined, ctx: StageContext): Promise<void> {
  const { model, tokenizer, header } = await loadGgufModel(file, { context });
  const shown = relative(process.cwd(), file) || file;
  const name = header.metadata.get('general.name')?.value;
  ctx.model.set(model, typeof name === 'string' ? `${shown} (${name})` : shown, shown);
  const vocabulary = await ctx.data.source.vocabularyFromJSON({ type: 'huggingface-tokenizer', ...tokenizer });
  ctx.vocabulary.set(vocabulary);
  const types = [...new Set(header.tensors.map((t) => ggmlTypeName(t.type)))].join(', ');
  ctx.progress.info(
    `load: GGUF ${model.config.model_type} model (${types} → float32), ${model.config.num_hidden_layers} layers, context ${model.config.context} tokens; tokenizer of ${vocabulary.size.toLocaleString('en-US')} ids`,
  );
}

/** load.adapter as a GGUF LoRA adapter: the header checked against the model (architecture, sites, shapes). */
async function checkGgufAdapterFile(file: string, ctx: StageCheckContext): Promise<void> {
  const model = ctx.model!;
  if (model.architecture !== 'llama') {
    ctx.issue('/adapter', `${file}: a GGUF LoRA adapter needs a Llama-family model; this one is ${model.architecture}`);
    return;
  }
  try {
    const config = model.config as LlamaConfig;
    const issues = await checkGgufAdapter(file, config);
    for (const issue of issues) ctx.issue('/adapter', issue);
    if (issues.length > 0) return;
    for (const site of await readGgufAdapterHeaderSites(file)) ctx.adaptedSites.add(site);
    await ctx.hashFile(file);
    ctx.provide('adapter');
  } catch (error) {
    ctx.issue('/adapter', describeReadError(file, error));
  }
}

/** Site paths of a GGUF LoRA adapter (from its header). */
async function readGgufAdapterHeaderSites(file: string): Promise<string[]> {
  const header = await readGgufHeader(file);
  return header.tensors.flatMap((t) => {
    const m = /^(.+)\.weight\.lora_a$/.exec(t.name);
    const path = m ? hfModulePath(m[1]) : null;
    return path ? [path] : [];
  });
}

/** A GGUF LoRA adapter put on the model: converted to a PEFT folder in a temporary directory, loaded from there. */
async function loadGgufAdapter(model: Model, file: string, seed: number): Promise<LoraLayer[]> {
  if (!(model instanceof Llama)) throw new Error(`${file}: a GGUF LoRA adapter needs a Llama-family model; this one is ${model.architecture}`);
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-gguf-adapter-'));
  try {
    await ggufAdapterToPeft(file, model.config, dir);
    return await loadAdapter(model, dir, seed);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
