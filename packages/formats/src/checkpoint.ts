import { mkdir, readFile } from 'node:fs/promises';
import { recordBaseModel } from './base-model.js';
import { atomicWriteFile } from './atomic-write.js';
import { describeFsError, isFsError } from './fs-errors.js';
import { parseJsonText } from './json-text.js';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '@rankwise/models';
import type { JsonObject, Model } from '@rankwise/models';
import { loraLayers } from '@rankwise/lora';
import { readSafetensorsFile, writeSafetensorsFile } from './tensor-file.js';

export const CHECKPOINT_FORMAT = 'rankwise-checkpoint';
export const CHECKPOINT_VERSION = 1;
export const CHECKPOINT_CONFIG = 'config.json';
export const CHECKPOINT_WEIGHTS = 'model.safetensors';

/** `config.json` of a checkpoint directory. */
export interface CheckpointConfig {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  architecture: string;
  task: string;
  config: JsonObject;
  /** Anything that travels with the weights, e.g. the tokenizer's vocabulary. */
  extra: JsonObject;
}

export interface SaveCheckpointOptions {
  /** Anything that travels with the weights, e.g. the tokenizer's vocabulary. */
  extra?: JsonObject;
  /** Write LoRA layers as merged weights W + scaling·A·B (the model itself is not changed). */
  merge?: boolean;
}

/**
 * The checkpoint tensors of `model`: parameter paths in tfjs layout [in, out]. LoRA layers appear as the plain
 * Linear they merge into (`<site>.weight` = W + scaling·A·B, `<site>.bias`); the caller disposes `owned`.
 */
function checkpointTensors(model: Model): { tensors: Array<{ name: string; tensor: tf.Tensor }>; owned: tf.Tensor[] } {
  const lora = new Map(loraLayers(model));
  const owned: tf.Tensor[] = [];
  const tensors: Array<{ name: string; tensor: tf.Tensor }> = [];
  for (const [name, tensor] of model.namedParameters()) {
    const site = [...lora.keys()].find((p) => name.startsWith(`${p}.`));
    if (site === undefined) {
      tensors.push({ name, tensor });
      continue;
    }
    const layer = lora.get(site)!;
    const local = name.slice(site.length + 1);
    if (local === 'base.weight') {
      const merged = layer.merged ? tensor : layer.mergedWeight();
      if (merged !== tensor) owned.push(merged);
      tensors.push({ name: `${site}.weight`, tensor: merged });
    } else if (local === 'base.bias') {
      tensors.push({ name: `${site}.bias`, tensor });
    }
  }
  return { tensors, owned };
}

/**
 * Writes `config.json` and `model.safetensors` (keys = parameter paths, tfjs layout [in, out]).
 * A model with LoRA layers is refused unless `merge: true`: its base weights alone would lose the adapters.
 */
export async function saveCheckpoint(model: Model, dir: string, options: SaveCheckpointOptions = {}): Promise<void> {
  const adapters = loraLayers(model);
  if (adapters.length > 0 && !options.merge) {
    throw new Error(
      `cannot save a checkpoint of a model with ${adapters.length} LoRA layers (${adapters.map(([p]) => p).join(', ')}); ` +
        'merge them first (mergeAndUnload), pass { merge: true }, or save the adapter (saveAdapter)',
    );
  }
  const extra = options.extra ?? {};
  const config: CheckpointConfig = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    architecture: model.architecture,
    task: model.task,
    config: model.config,
    extra,
  };
  await mkdir(dir, { recursive: true });
  const { tensors, owned } = checkpointTensors(model);
  try {
    await writeSafetensorsFile(join(dir, CHECKPOINT_WEIGHTS), tensors, { format: 'pt', producer: 'rankwise', layout: 'tfjs [in, out]' });
  } finally {
    tf.dispose(owned);
  }
  await atomicWriteFile(join(dir, CHECKPOINT_CONFIG), `${JSON.stringify(config, null, 2)}\n`);
}

export interface LoadedCheckpoint {
  model: Model;
  config: CheckpointConfig;
}

export async function readCheckpointConfig(dir: string): Promise<CheckpointConfig> {
  const file = join(dir, CHECKPOINT_CONFIG);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') {
      throw new Error(`${dir}: not a checkpoint directory (${CHECKPOINT_CONFIG} missing)`);
    }
    throw new Error(isFsError(error) ? `cannot read ${describeFsError(error, file)}` : `${file}: cannot read (${(error as Error).message})`);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw new Error(`${file}: not valid JSON (${parsed.message.replace(/, ".*is not valid JSON$/s, '')})`);
  const raw = parsed.value;
  const c = raw as Partial<CheckpointConfig>;
  const bad = (pointer: string, found: unknown, allowed: string): never => {
    throw new Error(`${file}: ${pointer}: found ${JSON.stringify(found)}, allowed: ${allowed}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('', raw, 'an object');
  if (c.format !== CHECKPOINT_FORMAT) bad('/format', c.format, JSON.stringify(CHECKPOINT_FORMAT));
  if (c.version !== CHECKPOINT_VERSION) bad('/version', c.version, String(CHECKPOINT_VERSION));
  if (typeof c.architecture !== 'string') bad('/architecture', c.architecture, 'an architecture name');
  if (typeof c.config !== 'object' || c.config === null || Array.isArray(c.config)) bad('/config', c.config, 'an object');
  return { ...c, extra: c.extra ?? {} } as CheckpointConfig;
}

/** Rebuilds the architecture from `config.json`, then loads every parameter, checking names and shapes. */
export async function loadCheckpoint(dir: string): Promise<LoadedCheckpoint> {
  const config = await readCheckpointConfig(dir);
  let model: Model;
  try {
    model = createModel(config.architecture, config.config, 0);
  } catch (error) {
    throw new Error(`${join(dir, CHECKPOINT_CONFIG)}: /config: ${(error as Error).message}`);
  }
  try {
    await loadWeightsInto(model, join(dir, CHECKPOINT_WEIGHTS));
  } catch (error) {
    model.dispose();
    throw error;
  }
  recordBaseModel(model, relative(process.cwd(), dir) || '.'); // as the load stage gives it
  return { model, config };
}

/** Assigns every parameter of `model` from a safetensors file with exactly the same names and shapes. */
export async function loadWeightsInto(model: Model, file: string): Promise<void> {
  const { tensors } = await readSafetensorsFile(file);
  const params = model.namedParameters();
  const expected = new Set(params.map(([name]) => name));
  const missing = params.filter(([name]) => !tensors.has(name)).map(([name]) => name);
  if (missing.length > 0) throw new Error(`${file}: missing tensors ${missing.join(', ')}`);
  const unexpected = [...tensors.keys()].filter((name) => !expected.has(name));
  if (unexpected.length > 0) throw new Error(`${file}: unexpected tensors ${unexpected.join(', ')}; the model has ${[...expected].join(', ')}`);
  for (const [name, variable] of params) {
    const t = tensors.get(name)!;
    if (t.shape.join(',') !== variable.shape.join(',')) {
      throw new Error(`${file}: tensor "${name}": shape [${t.shape.join(', ')}] in the file, the model expects [${variable.shape.join(', ')}]`);
    }
  }
  for (const [name, variable] of params) {
    const t = tensors.get(name)!;
    tf.tidy(() => variable.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
}
