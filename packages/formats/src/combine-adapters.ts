import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { combineFactors, type CombineOptions, type CombinedSite, type SiteFactors } from '@rankwise/lora';
import { initMovesBase } from '@rankwise/lora';
import { checkAdapterName, loraScaling } from '@rankwise/lora';
import { ADAPTER_CONFIG, readAdapter, readAdapterConfig, saveAdapterSites, type AdapterSite, type StoredAdapterSite } from './peft-adapter.js';
import type { AdapterSource } from './adapter-spec.js';
import { fromPeftLayout } from './peft-layout.js';

/** A's rows in rankwise's layout: in (linear), n (embedding), kh·kw·in (conv2d). */
function fanInOf(s: StoredAdapterSite): number {
  return s.kind === 'conv2d' && s.kernelSize ? s.kernelSize[0] * s.kernelSize[1] * s.inFeatures : s.inFeatures;
}

async function factorsOf(s: StoredAdapterSite): Promise<SiteFactors> {
  const { a, b } = fromPeftLayout(s);
  try {
    return {
      kind: s.kind,
      fanIn: fanInOf(s),
      out: s.outFeatures,
      r: s.r,
      variant: s.variant,
      scaling: loraScaling(s),
      dropout: s.dropout,
      a: await a.data(),
      b: await b.data(),
    };
  } finally {
    tf.dispose([a, b]);
  }
}

/**
 * PEFT's add_weighted_adapter on adapter folders, without a base model (the rules need only the factors): reads each
 * source (PEFT's checks), combines them (lora/combine.ts) and writes the result to `out` in PEFT's layout (α = r, no
 * rsLoRA), with the first source's base_model_name_or_path and task_type. Returns the combined sites.
 */
export async function combineAdapterFolders(name: string, sources: readonly AdapterSource[], options: CombineOptions, out: string): Promise<CombinedSite[]> {
  checkAdapterName(name);
  const factors = new Map<string, Map<string, SiteFactors>>();
  const kernels = new Map<string, [number, number] | undefined>();
  for (const { name: source, dir } of sources) {
    checkAdapterName(source);
    const sites = await readAdapter(dir);
    const moving = sites.find((s) => initMovesBase(s.init));
    if (moving)
      throw new Error(
        `${dir}: saved with init_lora_weights "${moving.init}" (not converted): its factors are relative to a base W it changed, so it cannot be combined`,
      );
    for (const site of sites) {
      const bySource = factors.get(site.path) ?? new Map<string, SiteFactors>();
      bySource.set(source, await factorsOf(site));
      factors.set(site.path, bySource);
      kernels.set(site.path, site.kernelSize);
    }
  }
  const combined = combineFactors(
    name,
    options,
    factors,
    sources.map((s) => s.name),
  );
  const first = sources[0];
  const { config } = await readAdapterConfig(first.dir);
  const raw = JSON.parse(await readFile(join(first.dir, ADAPTER_CONFIG), 'utf8')) as { task_type?: unknown };
  const sites: AdapterSite[] = combined.map((c) => ({
    path: c.path,
    r: c.r,
    alpha: c.r,
    rslora: false,
    dropout: c.dropout,
    kind: c.kind,
    kernelSize: kernels.get(c.path),
    a: tf.tensor2d(c.a, [c.fanIn, c.r]),
    b: tf.tensor2d(c.b, [c.r, c.out]),
    magnitude: null,
    init: 'kaiming',
    initial: null,
  }));
  try {
    await saveAdapterSites(sites, out, { baseModel: config.baseModel, taskType: typeof raw.task_type === 'string' ? raw.task_type : null });
  } finally {
    for (const s of sites) tf.dispose([s.a, s.b]);
  }
  return combined;
}
