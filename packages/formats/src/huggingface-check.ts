import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { HF_CONFIG, HF_INDEX, openHuggingFaceWeights, readHuggingFaceConfig } from './huggingface.js';
import { describeLlama } from '@rankwise/models';
import type { ModelDescription } from '@rankwise/models/description';

/**
 * Checks a Hugging Face model directory before anything is loaded: config.json (supported model type and features),
 * every weight file's header against it (names, shapes, dtypes; no tensor data is read) and tokenizer.json's presence.
 * Returns the model's description and the small files that identify the checkpoint for content hashes (config.json,
 * the shard index), not the gigabytes of weights.
 */
export async function checkHuggingFaceDir(dir: string, context?: number): Promise<{ model: ModelDescription; hashFiles: string[] }> {
  const info = await readHuggingFaceConfig(dir, { context });
  const { readers } = await openHuggingFaceWeights(dir, info.config);
  const hashFiles = [join(dir, HF_CONFIG)];
  for (const reader of readers.values()) await reader.close();
  if (await stat(join(dir, HF_INDEX)).catch(() => null)) hashFiles.push(join(dir, HF_INDEX));
  if (!(await stat(join(dir, 'tokenizer.json')).catch(() => null))) {
    throw new Error(`${dir}: no tokenizer.json (the model's tokenizer; rankwise reads the "fast" tokenizer.json format)`);
  }
  return { model: describeLlama(info.config), hashFiles };
}
