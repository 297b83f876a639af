import { open, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describeFsError, isFsError } from '../io/fs-errors.js';
import { ADAPTER_WEIGHTS, LORA_WEIGHT } from '../io/peft-adapter.js';
import { matchVariantTensor, variantTensorNames, variantTensorShape } from '../lora/variants/registry.js';
import { readSafetensorsHeaderFile } from '../io/tensor-file.js';
import type { SafetensorsHeader } from '../io/safetensors.js';
import type { ModelDescription } from '../nn/description.js';
import type { ValidationIssue } from './issues.js';
import type { DataSpec, Pipeline, TextDataSpec } from './types.js';

/**
 * Validation reads what the run will read, before anything loads: weight files exist and their safetensors
 * headers (only the headers) fit the model; adapter weights fit the sites they target; text data files exist and
 * are UTF-8 text; sizes are sane for this machine unless the pipeline says `"allowLargeRuns": true`.
 */

type Report = (pointer: string, message: string) => void;

/** More steps than this is almost always a typo (1e12); `allowLargeRuns` accepts it. */
export const MAX_STEPS = 10_000_000;
const CHECKPOINT_WEIGHTS = 'model.safetensors';

export async function checkRunInputs(pipeline: Pipeline, dir: string, loaded: ModelDescription | null, display: string, cwd: string): Promise<ValidationIssue[]> {
  const issues: ValidationIssue[] = [];
  const report: Report = (pointer, message) => issues.push({ file: display, pointer, message });
  const show = (path: string) => relative(cwd, path) || path;
  for (const [i, stage] of pipeline.stages.entries()) {
    const at = (suffix: string) => `/stages/${i}${suffix}`;
    if (stage.stage === 'load') {
      if (stage.checkpoint !== undefined && loaded) await checkCheckpointWeights(join(resolve(dir, stage.checkpoint), CHECKPOINT_WEIGHTS), loaded, at('/checkpoint'), report, show);
      if (stage.adapter !== undefined && loaded) await checkAdapterWeights(join(resolve(dir, stage.adapter), ADAPTER_WEIGHTS), loaded, at('/adapter'), report, show);
      for (const [name, path] of Object.entries(stage.adapters ?? {})) {
        if (loaded) await checkAdapterWeights(join(resolve(dir, path), ADAPTER_WEIGHTS), loaded, at(`/adapters/${name}`), report, show);
      }
      if (stage.vocabulary?.dataset === 'text-file' && stage.vocabulary.path) await checkTextFile(resolve(dir, stage.vocabulary.path), at('/vocabulary/path'), report, show);
    }
    if (stage.stage === 'train' || stage.stage === 'evaluate') {
      await checkDataFile(stage.data, dir, at('/data'), report, show);
      if (stage.stage === 'train' && stage.evalData) await checkDataFile(stage.evalData, dir, at('/evalData'), report, show);
      if (stage.stage === 'train' && !pipeline.allowLargeRuns && (stage.steps ?? 0) > MAX_STEPS) {
        report(at('/steps'), `found ${stage.steps}, allowed: at most ${MAX_STEPS.toLocaleString('en-US')} (likely a typo; set "allowLargeRuns": true at the top level if you mean it)`);
      }
    }
  }
  if (loaded && !pipeline.allowLargeRuns) checkModelMemory(pipeline, loaded, report);
  return issues;
}

async function checkDataFile(spec: DataSpec, dir: string, pointer: string, report: Report, show: (p: string) => string): Promise<void> {
  const text = spec as TextDataSpec;
  if (text.dataset === 'text-file' && typeof text.path === 'string') await checkTextFile(resolve(dir, text.path), `${pointer}/path`, report, show);
}

/** Exists, is a file, is valid UTF-8 and looks like text (no NUL bytes). Streams the file: no size limit. */
export async function checkTextFile(file: string, pointer: string, report: Report, show: (p: string) => string): Promise<void> {
  let handle;
  try {
    const info = await stat(file);
    if (!info.isFile()) return report(pointer, `${show(file)}: not a file`);
    if (info.size === 0) return report(pointer, `${show(file)}: the file is empty; a text dataset needs text`);
    handle = await open(file, 'r');
  } catch (error) {
    return report(pointer, isFsError(error) ? describeFsError(error, show(file)) : `${show(file)}: cannot read (${(error as Error).message})`);
  }
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const chunk = new Uint8Array(1 << 20);
    let offset = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, offset);
      if (bytesRead === 0) break;
      const bytes = chunk.subarray(0, bytesRead);
      const nul = bytes.indexOf(0);
      if (nul >= 0) return report(pointer, `${show(file)}: a binary file, not text (a NUL byte at offset ${offset + nul})`);
      try {
        decoder.decode(bytes, { stream: true });
      } catch {
        return report(pointer, `${show(file)}: not valid UTF-8 text (a bad byte within bytes ${offset}–${offset + bytesRead}); text datasets must be UTF-8`);
      }
      offset += bytesRead;
    }
    try {
      decoder.decode();
    } catch {
      report(pointer, `${show(file)}: not valid UTF-8 text (it ends inside a character)`);
    }
  } finally {
    await handle.close();
  }
}

async function readHeader(file: string, pointer: string, report: Report, show: (p: string) => string): Promise<SafetensorsHeader | null> {
  try {
    return await readSafetensorsHeaderFile(file);
  } catch (error) {
    report(pointer, (error as Error).message.replace(file, show(file)));
    return null;
  }
}

/** Every LoRA site's `<path>.weight` must be in the checkpoint with the site's [in, out] shape. */
async function checkCheckpointWeights(file: string, model: ModelDescription, pointer: string, report: Report, show: (p: string) => string): Promise<void> {
  const header = await readHeader(file, pointer, report, show);
  if (!header) return;
  const byName = new Map(header.entries.map((e) => [e.name, e]));
  for (const site of model.sites) {
    const name = `${site.path}.weight`;
    const entry = byName.get(name);
    if (!entry) {
      report(pointer, `${show(file)}: no tensor "${name}"; the config describes a ${model.architecture} with a ${site.inFeatures}×${site.outFeatures} layer there`);
    } else if (entry.shape.join(',') !== `${site.inFeatures},${site.outFeatures}`) {
      report(pointer, `${show(file)}: tensor "${name}": shape [${entry.shape.join(', ')}], the config says [${site.inFeatures}, ${site.outFeatures}]`);
    }
  }
}

/**
 * Adapter tensors name sites the model has, with PEFT's shapes: linear and embedding factors A [r, in] / B [out, r]
 * (`lora_A|B.weight`, `lora_embedding_A|B`), conv2d factors A [r, in, kh, kw] / B [out, r, 1, 1], the variants'
 * tensors (lora/variants/registry.ts: DoRA's magnitudes [out]). The names are the loader's (io/peft-adapter.ts); every bad tensor is listed, not only the first.
 */
async function checkAdapterWeights(file: string, model: ModelDescription, pointer: string, report: Report, show: (p: string) => string): Promise<void> {
  const header = await readHeader(file, pointer, report, show);
  if (!header) return;
  const sites = new Map(model.sites.map((s) => [s.path, s]));
  const ranks = new Map<string, number>();
  const where = (name: string, path: string) => {
    const site = sites.get(path);
    if (!site) report(pointer, `${show(file)}: tensor "${name}": site "${path}" is not in the model`);
    return site;
  };
  for (const entry of header.entries) {
    const shape = `[${entry.shape.join(', ')}]`;
    const extra = matchVariantTensor(entry.name); // a variant's tensor, e.g. DoRA's lora_magnitude_vector [out]
    if (extra) {
      const site = where(entry.name, extra.path);
      const expected = site && variantTensorShape(extra.tensor, site.outFeatures);
      if (expected && entry.shape.join() !== expected.join()) {
        report(pointer, `${show(file)}: tensor "${entry.name}": shape ${shape}, the model expects [${expected.join(', ')}] (${extra.tensor.what})`);
      }
      continue;
    }
    const match = LORA_WEIGHT.exec(entry.name);
    if (!match) {
      report(pointer, `${show(file)}: tensor "${entry.name}": not a LoRA weight (expected <site>.lora_A.weight, <site>.lora_B.weight, <site>.lora_embedding_A|B${variantTensorNames().map((n) => ` or ${n}`).join('')})`);
      continue;
    }
    const [, path, linearAB, embeddingAB] = match;
    const ab = linearAB ?? embeddingAB;
    const site = where(entry.name, path);
    if (!site) continue;
    // 2-D for Linear and Embedding; 4-D for Conv2D (B's kernel is 1×1), never for embeddings.
    const conv = entry.shape.length === 4 && embeddingAB === undefined;
    const rankOk = entry.shape.length === 2 || (conv && (ab === 'A' || (entry.shape[2] === 1 && entry.shape[3] === 1)));
    const ok = rankOk && (ab === 'A' ? entry.shape[1] === site.inFeatures : entry.shape[0] === site.outFeatures);
    if (!ok) {
      const expected = ab === 'A' ? `[r, ${site.inFeatures}]${embeddingAB ? '' : ` (or [r, ${site.inFeatures}, kh, kw] for a convolution)`}` : `[${site.outFeatures}, r]${embeddingAB ? '' : ` (or [${site.outFeatures}, r, 1, 1])`}`;
      report(pointer, `${show(file)}: tensor "${entry.name}": shape ${shape}, the model expects ${expected}`);
    }
    const r = ab === 'A' ? entry.shape[0] : entry.shape[1];
    if (ranks.has(path) && ranks.get(path) !== r) report(pointer, `${show(file)}: site "${path}": lora_A and lora_B disagree on the rank`);
    ranks.set(path, r);
  }
}

/** Parameters of the described model, from its sites (plus embeddings for language models). */
export function estimateParameters(model: ModelDescription): number {
  let n = 0;
  for (const s of model.sites) n += s.inFeatures * s.outFeatures + s.outFeatures;
  const dim = model.sites[0]?.inFeatures ?? 0;
  if (model.vocabSize) n += model.vocabSize * dim;
  if (model.contextLength) n += model.contextLength * dim;
  return n;
}

/** Weights (4 bytes each) plus, for full training, gradients and Adam's two moments: more than RAM is refused. */
function checkModelMemory(pipeline: Pipeline, model: ModelDescription, report: Report): void {
  const params = estimateParameters(model);
  const trains = pipeline.stages.some((s) => s.stage === 'train');
  const bytes = params * 4 * (trains ? 4 : 1);
  const available = totalmem();
  const largest = Math.max(0, ...model.sites.map((s) => s.inFeatures * s.outFeatures));
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (largest > 2 ** 31 - 1) {
    report('/stages/0', `a ${model.architecture} layer of ${largest.toExponential(2)} weights exceeds the largest tensor TensorFlow.js can hold (2^31 − 1 values)`);
  } else if (bytes > available) {
    report(
      '/stages/0',
      `a ${model.architecture} of about ${params.toExponential(2)} parameters needs about ${gib(bytes)}${trains ? ' to train' : ''}, this machine has ${gib(available)} (set "allowLargeRuns": true at the top level if you mean it)`,
    );
  }
}
