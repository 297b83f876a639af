import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { peftTaskType } from '@rankwise/formats';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { peftToGgufAdapter } from '@rankwise/formats';
import { ggufUnsupported, saveGgufModel } from '@rankwise/formats';
import { defineStage } from '../contracts/stage.js';
import { atomicDirectory, temporaryName } from '@rankwise/formats';
import { saveCheckpoint } from '@rankwise/formats';
import { saveHuggingFaceModel } from '@rankwise/formats';
import { Llama, type LlamaConfig } from '@rankwise/models';
import { saveAdapter, saveAdapterSites, saveNamedAdapters, snapshotAdapter } from '@rankwise/formats';
import { saveTfjsModel } from '@rankwise/formats';
import { TfjsLayersModel } from '@rankwise/models';
import { loraLayers } from '@rankwise/lora';
import type { JsonObject } from '@rankwise/models';

const SaveOptions = Type.Object(
  {
    adapter: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Write adapter/ in PEFT\'s layout (several adapters as PEFT saves them: "default" at the top, every other one in adapter/<name>/).',
      }),
    ),
    merged: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Write merged/: the model with adapters folded in (a rankwise checkpoint; Llama-family models as a Hugging Face model directory).',
      }),
    ),
    gguf: Type.Optional(
      Type.Object(
        {
          type: Type.Union([Type.Literal('f32'), Type.Literal('f16'), Type.Literal('q8_0')], {
            default: 'f16',
            description: 'Tensor type of the 2-D weights (1-D tensors stay F32), as convert_hf_to_gguf.py --outtype.',
          }),
        },
        {
          additionalProperties: false,
          description:
            'Write model.gguf: the Llama-family model with adapters merged, as one GGUF file for llama.cpp, Ollama, node-llama-cpp (needs the model\'s tokenizer: load with "huggingface" or "gguf").',
        },
      ),
    ),
    ggufAdapter: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Write adapter.gguf: the LoRA adapter of a Llama-family model (with several named adapters, the first active one) as a GGUF LoRA adapter (llama.cpp --lora, Ollama ADAPTER), as convert_lora_to_gguf.py writes it.',
      }),
    ),
    tfjs: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Write tfjs/: the model with adapters folded in as a TensorFlow.js LayersModel folder (model.json + weight shards) that tf.loadLayersModel loads; for models loaded with "tfjs".',
      }),
    ),
  },
  {
    description: 'Writes the adapter (PEFT layout) and/or the merged model into the run directory.',
    additionalProperties: false,
    anyOf: [
      { properties: { adapter: { const: true } }, required: ['adapter'] },
      { properties: { merged: { const: true } }, required: ['merged'] },
      { properties: { tfjs: { const: true } }, required: ['tfjs'] },
      { required: ['gguf'] },
      { properties: { ggufAdapter: { const: true } }, required: ['ggufAdapter'] },
    ],
    'x-message': 'save needs "adapter": true, "merged": true, "tfjs": true, "gguf": {…} or "ggufAdapter": true (one or more)',
  },
);
export type SaveOptions = Static<typeof SaveOptions>;

export interface SaveResult {
  /** Absolute directories written. */
  adapter?: string;
  merged?: string;
  tfjs?: string;
  /** Absolute GGUF files written. */
  gguf?: string;
  ggufAdapter?: string;
}

/** adapter/ in PEFT's layout, merged/ as a checkpoint (config.json + model.safetensors), tfjs/ as a LayersModel. */
export default defineStage<SaveOptions, SaveResult, 'save'>({
  name: 'save',
  description: 'Writes the adapter (PEFT layout) and/or the merged model into the run directory.',
  options: SaveOptions,
  requires: ['model'],
  provides: [],
  check(options, ctx) {
    if (options.adapter && !ctx.has('adapter') && !ctx.has('merged-adapter'))
      ctx.issue('/adapter', 'no adapter to save: no inject stage (or load.adapter / load.adapters) before this stage');
    const architecture = ctx.model?.architecture;
    if (options.tfjs && architecture !== 'tfjs-layers')
      ctx.issue('/tfjs', `found true for a ${architecture} model; allowed: models loaded with "tfjs" (save zoo models with "merged")`);
    if (options.ggufAdapter && !ctx.has('adapter') && !ctx.has('merged-adapter'))
      ctx.issue('/ggufAdapter', 'no adapter to save: no inject stage (or load.adapter) before this stage');
    for (const key of ['gguf', 'ggufAdapter'] as const) {
      if (options[key] && architecture !== undefined && architecture !== 'llama')
        ctx.issue(`/${key}`, `found a ${architecture} model; allowed: Llama-family models (loaded with "huggingface" or "gguf")`);
      const unsupported = options[key] && architecture === 'llama' && ctx.model ? ggufUnsupported(ctx.model.config as unknown as LlamaConfig) : null;
      if (unsupported) ctx.issue(`/${key}`, `found a model with ${unsupported}`);
    }
    if (ctx.has('quantized')) {
      for (const key of ['merged', 'gguf', 'tfjs'] as const) {
        if (options[key])
          ctx.issue(
            `/${key}`,
            `the base model is stored quantized (load.quantize): its weights are not saved whole; allowed: "adapter": true or "ggufAdapter": true (put the adapter on the float32 base to merge)`,
          );
      }
    }
    if (options.merged && architecture === 'tfjs-layers')
      ctx.issue('/merged', 'found true for a tfjs LayersModel; allowed: "tfjs": true (a LayersModel folder with the original topology)');
  },
  async run(options, ctx) {
    const model = ctx.model.require('save');
    const result: SaveResult = {};
    if (options.adapter) {
      const dir = ctx.runDir.path('adapter');
      const saveOptions = { baseModel: ctx.model.baseModelId, taskType: peftTaskType(model) };
      const snapshot = ctx.adapters.snapshot;
      if (loraLayers(model).length === 0 && !snapshot) throw new Error('save: no adapter to save (nothing was injected)');
      // Written under a temporary name and renamed: adapter/ is complete or absent, never half-written.
      await atomicDirectory(dir, async (temp) => {
        await (loraLayers(model).length > 0 ? saveAdapter(model, temp, saveOptions) : saveNamedAdapters(snapshot!.adapters, temp, saveOptions));
        await writeClassNames(temp, ctx.data.classNames);
      });
      ctx.runDir.artifact('adapter', 'adapter');
      ctx.progress.info(`save: adapter → ${dir}`);
      result.adapter = dir;
    }
    if (options.tfjs) {
      if (!(model instanceof TfjsLayersModel)) throw new Error(`save: "tfjs" needs a model loaded with "tfjs"; this one is ${model.architecture}`);
      const dir = ctx.runDir.path('tfjs');
      const { files, bytes } = await saveTfjsModel(model, dir);
      await writeClassNames(dir, ctx.data.classNames);
      ctx.runDir.artifact('tfjs', 'tfjs');
      ctx.progress.info(`save: tfjs LayersModel (adapters merged) → ${dir} (${files.length} files, ${bytes.toLocaleString('en-US')} weight bytes)`);
      result.tfjs = dir;
    }
    if (options.gguf || options.ggufAdapter) {
      if (!(model instanceof Llama)) throw new Error(`save: GGUF needs a Llama-family model; this one is ${model.architecture}`);
      const name = ctx.model.baseModelId ?? 'rankwise';
      if (options.gguf) {
        const file = ctx.runDir.path('model.gguf');
        const json = ctx.vocabulary.current()?.toJSON() as { type?: string; tokenizer?: Record<string, unknown>; config?: Record<string, unknown> } | undefined;
        if (json?.type !== 'huggingface-tokenizer' || !json.tokenizer)
          throw new Error('save: GGUF needs the model\'s own tokenizer (load the model with "huggingface" or "gguf")');
        const type = options.gguf.type ?? 'f16';
        await atomicFile(file, (temp) => saveGgufModel(model, temp, { type, name, tokenizer: { tokenizer: json.tokenizer!, config: json.config ?? {} } }));
        ctx.runDir.artifact('gguf', 'model.gguf');
        ctx.progress.info(`save: GGUF model (${type}, adapters merged) → ${file}`);
        result.gguf = file;
      }
      if (options.ggufAdapter) {
        const file = ctx.runDir.path('adapter.gguf');
        const snapshot = ctx.adapters.snapshot;
        if (loraLayers(model).length === 0 && !snapshot) throw new Error('save: no adapter to save (nothing was injected)');
        // The adapter is written in PEFT's layout first (DoRA and PiSSA/OLoRA conversions included), then converted.
        const peftDir = await mkdtemp(join(tmpdir(), 'rankwise-gguf-'));
        try {
          // One GGUF LoRA adapter: with several named adapters, the first active one (a snapshot's sites are that one's).
          const own = loraLayers(model).length > 0 ? snapshotAdapter(model) : null;
          try {
            await saveAdapterSites((own ?? snapshot!).sites, peftDir);
          } finally {
            own?.dispose();
          }
          const written = await atomicFile(file, (temp) => peftToGgufAdapter(peftDir, model.config, temp, { name }));
          ctx.progress.info(`save: GGUF LoRA adapter (${written.sites} sites, alpha ${written.alpha}) → ${file}`);
        } finally {
          await rm(peftDir, { recursive: true, force: true });
        }
        ctx.runDir.artifact('ggufAdapter', 'adapter.gguf');
        result.ggufAdapter = file;
      }
    }
    if (options.merged) {
      const dir = ctx.runDir.path('merged');
      const vocabulary = ctx.vocabulary.current();
      // Written under a temporary name and renamed: merged/ is complete or absent, never half-written.
      if (model instanceof Llama) {
        // Hugging Face layout ([out, in], HF names, config.json, tokenizer files): transformers and rankwise both load it.
        await atomicDirectory(dir, async (temp) => {
          await saveHuggingFaceModel(model, temp);
          await vocabulary?.save?.(temp);
        });
      } else {
        const extra: JsonObject = vocabulary ? { vocabulary: vocabulary.toJSON() as JsonObject } : {};
        await atomicDirectory(dir, async (temp) => {
          await saveCheckpoint(model, temp, { extra, merge: true });
          await writeClassNames(temp, ctx.data.classNames);
        });
      }
      ctx.runDir.artifact('merged', 'merged');
      ctx.progress.info(`save: merged model → ${dir}`);
      result.merged = dir;
    }
    return result;
  },
});

/** The file class names are saved in, next to a model or adapter: `{ "classes": ["cat", "dog", …] }` in label order. */
export const CLASS_NAMES_FILE = 'classes.json';

async function writeClassNames(dir: string, classNames: readonly string[] | null): Promise<void> {
  if (classNames) await writeFile(join(dir, CLASS_NAMES_FILE), `${JSON.stringify({ classes: classNames }, null, 2)}\n`);
}

/** Writes a file under a temporary name and renames it: it is complete or absent, never half-written. */
async function atomicFile<T>(file: string, write: (temp: string) => Promise<T>): Promise<T> {
  const temp = temporaryName(file);
  try {
    const out = await write(temp);
    await rename(temp, file);
    return out;
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
