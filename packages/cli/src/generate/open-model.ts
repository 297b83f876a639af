import { access, realpath, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isHuggingFaceDir, loadAdapter, loadCheckpoint, loadHuggingFaceModel, readSummary, type Model, type Vocabulary } from '@rankwise/core';
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

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/**
 * The model directory a path names: a run folder (its merged/ model), a pipeline's runs folder (its `latest` run), a
 * Hugging Face directory, a merged model or a zoo checkpoint (config.json + model.safetensors).
 */
export async function modelDirectory(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`${path}: not a directory; allowed: a run folder, a Hugging Face model directory, a merged model or a checkpoint directory`);
  let dir = path;
  if (await exists(join(dir, 'latest'))) dir = await realpath(join(dir, 'latest'));
  if ((await readSummary(dir)) !== null) {
    if (await exists(join(dir, 'merged'))) return join(dir, 'merged');
    const adapter = (await exists(join(dir, 'adapter'))) ? ` It has adapter/: pass its base model and --adapter ${join(dir, 'adapter')}.` : '';
    throw new UsageError(`${dir}: a run folder without merged/ (save with "merged": true).${adapter}`);
  }
  if (!(await exists(join(dir, 'config.json')))) throw new UsageError(`${dir}: no config.json; allowed: a run folder, a Hugging Face model directory, a merged model or a checkpoint directory`);
  return dir;
}

/**
 * Puts the adapters on the model. One adapter directory per invocation for now (PEFT layout); several named adapters
 * on one base, switched per request, plug in here.
 */
export async function applyAdapters(model: Model, adapters: readonly string[], seed: number): Promise<string[]> {
  if (adapters.length > 1) throw new UsageError(`found ${adapters.length} --adapter directories; allowed: one`);
  const shown: string[] = [];
  for (const dir of adapters) {
    const layers = await loadAdapter(model, dir, seed);
    shown.push(`${relative(process.cwd(), dir) || dir} (${layers.length} LoRA layers)`);
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
    if (json === undefined) throw new UsageError(`${join(dir, 'config.json')}: /extra/vocabulary: missing; a language-model checkpoint saved by rankwise carries its vocabulary`);
    const vocab = json.type === 'huggingface-tokenizer' ? HfTokenizer.fromJSON(json as HfTokenizerJson) : CharVocab.fromJSON(json as CharVocabJson);
    opened = { model, vocab, modelDir: null, origin: `${model.architecture} checkpoint from ${relative(process.cwd(), dir) || '.'}` };
  }
  if (opened.model.task !== 'language-model') throw new UsageError(`${dir}: a ${opened.model.architecture} ${opened.model.task} model; allowed: a language model`);
  const shown = await applyAdapters(opened.model, adapters, seed);
  if (shown.length > 0) opened.origin += ` + adapter ${shown.join(', ')}`;
  return opened;
}
