import { open, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { StageCheckContext } from '../contracts/stage.js';
import type { DataSpec, TextDataSpec } from '../contracts/data-schema.js';
import { describeFsError, isFsError } from '@rankwise/formats';
import { ADAPTER_WEIGHTS, LORA_WEIGHT } from '@rankwise/formats';
import { matchVariantTensor, variantTensorNames, variantTensorShape } from '@rankwise/lora';
import { readSafetensorsHeaderFile } from '@rankwise/formats';
import type { SafetensorsHeader } from '@rankwise/formats';
import type { ModelDescription } from '@rankwise/models/description';

/**
 * Validation reads what the run will read, before anything loads: weight files exist and their safetensors
 * headers (only the headers) fit the model; adapter weights fit the sites they target; text data files exist and
 * are UTF-8 text. Each stage's `check` calls the ones for the files it reads (load, train, evaluate).
 */

type Report = (pointer: string, message: string) => void;

const CHECKPOINT_WEIGHTS = 'model.safetensors';

/** load's files: a checkpoint's weights, adapter weights and a text vocabulary, against the model it loads. */
export async function checkLoadFiles(
  options: { checkpoint?: string; adapter?: string; adapters?: Record<string, string>; vocabulary?: DataSpec },
  model: ModelDescription,
  ctx: StageCheckContext,
): Promise<void> {
  const report: Report = (pointer, message) => ctx.issue(pointer, message);
  const show = (path: string) => ctx.shown(path);
  if (options.checkpoint !== undefined)
    await checkCheckpointWeights(join(resolve(ctx.dir, options.checkpoint), CHECKPOINT_WEIGHTS), model, '/checkpoint', report, show);
  if (options.adapter !== undefined) await checkAdapterWeights(join(resolve(ctx.dir, options.adapter), ADAPTER_WEIGHTS), model, '/adapter', report, show);
  for (const [name, path] of Object.entries(options.adapters ?? {})) {
    await checkAdapterWeights(join(resolve(ctx.dir, path), ADAPTER_WEIGHTS), model, `/adapters/${name}`, report, show);
  }
  const vocabulary = options.vocabulary as TextDataSpec | undefined;
  if (vocabulary?.dataset === 'text-file' && vocabulary.path) await checkTextFile(resolve(ctx.dir, vocabulary.path), '/vocabulary/path', report, show);
}

/** A text-file data object's file (`pointer` is the data object's, relative to the stage). */
export async function checkDataFile(spec: DataSpec, pointer: string, ctx: StageCheckContext): Promise<void> {
  const text = spec as TextDataSpec;
  if (text.dataset === 'text-file' && typeof text.path === 'string') {
    await checkTextFile(
      resolve(ctx.dir, text.path),
      `${pointer}/path`,
      (at, message) => ctx.issue(at, message),
      (path) => ctx.shown(path),
    );
  }
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
      report(
        pointer,
        `${show(file)}: no tensor "${name}"; the config describes a ${model.architecture} with a ${site.inFeatures}×${site.outFeatures} layer there`,
      );
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
      report(
        pointer,
        `${show(file)}: tensor "${entry.name}": not a LoRA weight (expected <site>.lora_A.weight, <site>.lora_B.weight, <site>.lora_embedding_A|B${variantTensorNames()
          .map((n) => ` or ${n}`)
          .join('')})`,
      );
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
      const expected =
        ab === 'A'
          ? `[r, ${site.inFeatures}]${embeddingAB ? '' : ` (or [r, ${site.inFeatures}, kh, kw] for a convolution)`}`
          : `[${site.outFeatures}, r]${embeddingAB ? '' : ` (or [${site.outFeatures}, r, 1, 1])`}`;
      report(pointer, `${show(file)}: tensor "${entry.name}": shape ${shape}, the model expects ${expected}`);
    }
    const r = ab === 'A' ? entry.shape[0] : entry.shape[1];
    if (ranks.has(path) && ranks.get(path) !== r) report(pointer, `${show(file)}: site "${path}": lora_A and lora_B disagree on the rank`);
    ranks.set(path, r);
  }
}
