import { Type, type Static } from '@sinclair/typebox';
import { defineStage } from '../contracts/stage.js';
import { saveCheckpoint } from '../io/checkpoint.js';
import { saveHuggingFaceModel } from '../io/huggingface.js';
import { Llama } from '../nn/llama.js';
import { saveAdapter, saveAdapterSites } from '../io/peft-adapter.js';
import { loraLayers } from '../lora/inject.js';
import type { JsonObject } from '../nn/model.js';

const SaveOptions = Type.Object(
  {
    adapter: Type.Optional(Type.Boolean({ default: false, description: 'Write adapter/ in PEFT\'s layout.' })),
    merged: Type.Optional(Type.Boolean({ default: false, description: 'Write merged/: the model with adapters folded in (a rankwise checkpoint; Llama-family models as a Hugging Face model directory).' })),
  },
  {
    description: 'Writes the adapter (PEFT layout) and/or the merged model into the run directory.',
    additionalProperties: false,
    anyOf: [
      { properties: { adapter: { const: true } }, required: ['adapter'] },
      { properties: { merged: { const: true } }, required: ['merged'] },
    ],
    'x-message': 'save needs "adapter": true or "merged": true (or both)',
  },
);
export type SaveOptions = Static<typeof SaveOptions>;

export interface SaveResult {
  /** Absolute directories written. */
  adapter?: string;
  merged?: string;
}

/** adapter/ in PEFT's layout and merged/ as a checkpoint (config.json + model.safetensors). */
export default defineStage<SaveOptions, SaveResult>({
  name: 'save',
  description: 'Writes the adapter (PEFT layout) and/or the merged model into the run directory.',
  options: SaveOptions,
  requires: ['model'],
  provides: [],
  check(options, ctx) {
    if (options.adapter && !ctx.has('adapter') && !ctx.has('merged-adapter')) ctx.issue('/adapter', 'no adapter to save: no inject stage (or load.adapter) before this stage');
  },
  async run(options, ctx) {
    const model = ctx.model.require('save');
    const result: SaveResult = {};
    if (options.adapter) {
      const dir = ctx.runDir.path('adapter');
      const saveOptions = { baseModel: ctx.model.baseModelId, taskType: model.task === 'language-model' ? 'CAUSAL_LM' : null };
      if (loraLayers(model).length > 0) await saveAdapter(model, dir, saveOptions);
      else if (ctx.adapters.snapshot) await saveAdapterSites(ctx.adapters.snapshot.sites, dir, saveOptions);
      else throw new Error('save: no adapter to save (nothing was injected)');
      ctx.runDir.artifact('adapter', 'adapter');
      ctx.progress.info(`save: adapter → ${dir}`);
      result.adapter = dir;
    }
    if (options.merged) {
      const dir = ctx.runDir.path('merged');
      const vocabulary = ctx.vocabulary.current();
      if (model instanceof Llama) {
        // Hugging Face layout ([out, in], HF names, config.json, tokenizer files): transformers and rankwise both load it.
        await saveHuggingFaceModel(model, dir);
        await vocabulary?.save?.(dir);
      } else {
        const extra: JsonObject = vocabulary ? { vocabulary: vocabulary.toJSON() as JsonObject } : {};
        await saveCheckpoint(model, dir, { extra, merge: true });
      }
      ctx.runDir.artifact('merged', 'merged');
      ctx.progress.info(`save: merged model → ${dir}`);
      result.merged = dir;
    }
    return result;
  },
});
