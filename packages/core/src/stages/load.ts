import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { CorpusSchema } from '../contracts/data-schema.js';
import { describedRef } from '../contracts/schema-helpers.js';
import { defineStage, type StageCheckContext, type StageContext } from '../contracts/stage.js';
import { loadCheckpoint, readCheckpointConfig } from '../io/checkpoint.js';
import { loadAdapter, readAdapterConfig } from '../io/peft-adapter.js';
import { loadTfjsModel } from '../io/tfjs-model.js';
import { describeTfjsLoad } from './tfjs-load-check.js';
import { parameterReport } from '../lora/parameter-report.js';
import { createModel, describeModel } from '../nn/architectures.js';
import { isConfigError } from '../nn/description.js';
import type { JsonObject } from '../nn/model.js';
import type { Site } from '../nn/site.js';

const LoadOptions = Type.Object(
  {
    architecture: Type.Optional(Type.String({ description: 'A zoo architecture, initialised from the pipeline seed.' })),
    config: Type.Optional(Type.Unsafe<JsonObject>({ type: 'object', description: 'The architecture\'s config (e.g. {"sizes": [784, 256, 256, 10]}).' })),
    checkpoint: Type.Optional(Type.String({ minLength: 1, description: 'A checkpoint directory (config.json + model.safetensors), relative to the pipeline file.' })),
    from: Type.Optional(Type.String({ minLength: 1, description: 'Another pipeline file whose merged model to load; it runs first when its result is missing or stale.' })),
    tfjs: Type.Optional(Type.String({ minLength: 1, description: 'A TensorFlow.js LayersModel: its model.json (or a directory holding one), relative to the pipeline file. Dense, Conv2D and Embedding layers become LoRA sites named by their layer names.' })),
    adapter: Type.Optional(Type.String({ minLength: 1, description: 'A PEFT-layout adapter directory to put on the loaded model.' })),
    vocabulary: Type.Optional(
      describedRef(CorpusSchema, 'Language models built from an architecture: the corpus whose characters form the vocabulary (at most config.vocabSize ids, id 0 = unknown).'),
    ),
  },
  {
    description: 'Where the model comes from: exactly one of architecture, checkpoint, from, tfjs.',
    additionalProperties: false,
    oneOf: [
      { required: ['architecture'], not: { anyOf: [{ required: ['checkpoint'] }, { required: ['from'] }, { required: ['tfjs'] }] } },
      ...(['checkpoint', 'from', 'tfjs'] as const).map((source) => ({
        required: [source],
        not: { anyOf: ['architecture', 'checkpoint', 'from', 'tfjs', 'config', 'vocabulary'].filter((k) => k !== source).map((k) => ({ required: [k] })) },
      })),
    ],
    'x-message': 'give exactly one of "architecture" (with optional "config" and "vocabulary"), "checkpoint", "from" or "tfjs"',
  },
);
export type LoadOptions = Static<typeof LoadOptions>;

export interface LoadResult {
  /** Where the base weights came from. */
  origin: string;
  architecture: string;
  totalParams: number;
  /** LoRA layers put on the model from `adapter`. */
  adapterLayers: number;
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
export default defineStage<LoadOptions, LoadResult>({
  name: 'load',
  description: 'Where the model comes from: exactly one of architecture, checkpoint, from, tfjs.',
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
        if (model.task === 'language-model' && !options.vocabulary) {
          ctx.issue('', `a ${options.architecture} language model built from scratch needs "vocabulary": the corpus whose characters it reads`);
        }
        ctx.setModel(model);
      } catch (error) {
        if (isConfigError(error)) ctx.issue(`/config${error.pointer}`, error.message.replace(/^\S+: /, ''));
        else ctx.issue('/architecture', (error as Error).message);
      }
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
    if (ctx.model && options.adapter) await checkAdapterDir(resolve(ctx.dir, options.adapter), ctx.model.sites, ctx);
  },
  async run(options, ctx) {
    const dir = ctx.pipeline.dir;
    if (options.tfjs !== undefined) {
      const model = await loadTfjsModel(resolve(dir, options.tfjs), ctx.seed);
      ctx.model.set(model, model.origin.source);
    } else if (options.architecture !== undefined) {
      const seed = ctx.pipeline.seed;
      ctx.model.set(createModel(options.architecture, options.config ?? {}, seed), `${options.architecture} (built from its config, seed ${seed})`);
      if (options.vocabulary) await buildVocabulary(options, ctx);
    } else {
      const checkpointDir = options.checkpoint !== undefined ? resolve(dir, options.checkpoint) : await ctx.pipeline.dependencyModel(ctx.index);
      const { model, config } = await loadCheckpoint(checkpointDir);
      ctx.model.set(model, checkpointDir);
      if (config.extra.vocabulary !== undefined) ctx.vocabulary.set(await ctx.data.source.vocabularyFromJSON(config.extra.vocabulary));
    }
    const model = ctx.model.require('load');
    let adapterLayers = 0;
    if (options.adapter !== undefined) {
      const layers = await loadAdapter(model, resolve(dir, options.adapter), ctx.seed);
      adapterLayers = layers.length;
      ctx.progress.info(`load: adapter with ${layers.length} LoRA layers from ${options.adapter}`);
    }
    const report = parameterReport(model);
    const vocabulary = ctx.vocabulary.current();
    if (vocabulary) ctx.progress.info(`load: vocabulary of ${vocabulary.size} ids (id 0 = unknown)`);
    const origin = options.architecture !== undefined ? ctx.model.origin : `${model.architecture} from ${ctx.model.origin}`;
    ctx.progress.info(`load: ${origin}; ${report.total.toLocaleString('en-US')} parameters`);
    return { origin: ctx.model.origin, architecture: model.architecture, totalParams: report.total, adapterLayers, vocabularySize: vocabulary?.size ?? null };
  },
});

/** load.adapter: the adapter's target sites must exist on the model; they count as adapted from here on. */
async function checkAdapterDir(dir: string, sites: readonly Site[], ctx: StageCheckContext): Promise<void> {
  try {
    const { config } = await readAdapterConfig(dir);
    const targets = Array.isArray((config as { target_modules?: unknown }).target_modules) ? (config as { target_modules: string[] }).target_modules : [];
    const known = new Map(sites.map((s) => [s.path, s]));
    for (const path of targets) {
      if (!known.has(path)) ctx.issue('/adapter', `adapter targets site "${path}", which the model does not have; available sites: ${[...known.keys()].join(', ')}`);
      ctx.adaptedSites.add(path);
    }
    ctx.provide('adapter');
  } catch (error) {
    ctx.issue('/adapter', (error as Error).message);
  }
}
