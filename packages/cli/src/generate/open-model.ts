import { access, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadAdapter, loadCheckpoint, loadHuggingFaceModel, type Vocabulary } from '@rankwise/core';
import { readSummary } from '@rankwise/core/runs';
import { isHuggingFaceDir, parseAdapterSpec } from '@rankwise/formats';
import { DEFAULT_ADAPTER } from '@rankwise/lora';
import type { Model } from '@rankwise/models';
import { CharVocab, HfTokenizer, type CharVocabJson, type HfTokenizerJson } from '@rankwise/datasets';
import { UsageError } from '../options.js';

export interface OpenedModel {
  model: Model;
  vocab: Vocabulary;
  /** The Hugging Face directory the model came from (its tokenizer_config.json has the chat template), else null. */
  modelDir: string | null;
  /** What was loaded, for the log line. */
  origin: string;
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * The model directory a path names: a run folder (its merged/ model), a pipeline's runs folder (its `latest` run), a
 * Hugging Face directory, a merged model or a zoo checkpoint (config.json + model.safetensors).
 */
export async function modelDirectory(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info?.isDirectory())
    throw new UsageError(`${path}: not a directory; allowed: a run folder, a Hugging Face model directory, a merged model or a checkpoint directory`);
  let dir = path;
  if (await exists(join(dir, 'latest'))) dir = await realpath(join(dir, 'latest'));
  if ((await readSummary(dir)) !== null) {
    if (await exists(join(dir, 'merged'))) return join(dir, 'merged');
    const adapter = (await exists(join(dir, 'adapter'))) ? ` It has adapter/: pass its base model and --adapter ${join(dir, 'adapter')}.` : '';
    throw new UsageError(`${dir}: a run folder without merged/ (save with "merged": true).${adapter}`);
  }
  if (!(await exists(join(dir, 'config.json'))))
    throw new UsageError(`${dir}: no config.json; allowed: a run folder, a Hugging Face model directory, a merged model or a checkpoint directory`);
  return dir;
}

/**
 * Puts the `--adapter` adapters on the model: `name=folder` (several on one base, PEFT's load_adapter) or a bare folder
 * (the adapter named "default"); the first is active. A prompts-file line picks another with `"adapter": "<name>"`.
 */
export async function applyAdapters(model: Model, adapters: readonly string[], seed: number): Promise<string[]> {
  const sources = adapters.map((spec) => {
    try {
      return parseAdapterSpec(spec);
    } catch (error) {
      throw new UsageError(`--adapter: ${(error as Error).message}`);
    }
  });
  const shown: string[] = [];
  for (const [i, { name, dir }] of sources.entries()) {
    if (sources.findIndex((s) => s.name === name) !== i)
      throw new UsageError(`--adapter: the name "${name}" is given twice; allowed: one folder per name (name=folder)`);
    const layers = await loadAdapter(model, dir, seed, name);
    const where = relative(process.cwd(), dir) || dir;
    shown.push(`${sources.length > 1 || name !== DEFAULT_ADAPTER ? `${name}=` : ''}${where} (${layers.length} LoRA layers)`);
  }
  return shown;
}

/** Loads the model (and its tokenizer or character vocabulary) a path names, with its adapters. */
export async function openModel(path: string, adapters: readonly string[], seed = 0): Promise<OpenedModel> {
  const dir = await modelDirectory(path);
  let opened: OpenedModel;
  if (await isHuggingFaceDir(dir)) {
    const vocab = await HfTokenizer.fromDirectory(dir);
    const { model } = await loadHuggingFaceModel(dir);
    opened = { model, vocab, modelDir: dir, origin: `${model.config.model_type} model from ${relative(process.cwd(), dir) || '.'}` };
  } else {
    const { model, config } = await loadCheckpoint(dir);
    const json = config.extra.vocabulary as { type?: unknown } | undefined;
    if (json === undefined)
      throw new UsageError(`${join(dir, 'config.json')}: /extra/vocabulary: missing; a language-model checkpoint saved by rankwise carries its vocabulary`);
    const vocab = json.type === 'huggingface-tokenizer' ? HfTokenizer.fromJSON(json as HfTokenizerJson) : CharVocab.fromJSON(json as CharVocabJson);
    opened = { model, vocab, modelDir: null, origin: `${model.architecture} checkpoint from ${relative(process.cwd(), dir) || '.'}` };
  }
  if (opened.model.task !== 'language-model')
    throw new UsageError(`${dir}: a ${opened.model.architecture} ${opened.model.task} model; allowed: a language model`);
  const shown = await applyAdapters(opened.model, adapters, seed).catch((error: unknown) => {
    opened.model.dispose();
    throw error;
  });
  if (shown.length > 0) opened.origin += ` + adapter ${shown.join(', ')}`;
  return opened;
}
