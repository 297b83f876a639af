import * as tf from '@tensorflow/tfjs';
import type { Module } from '@rankwise/models';
import { Rng } from '@rankwise/models';
import { adapterNames } from './adapters.js';
import { combineFactors, type CombineOptions, type CombinedSite, type SiteFactors } from './combine.js';
import { loraLayers } from './inject.js';
import type { LoraAdapter, LoraLayer } from './lora-layer.js';

/** An adapter's factors at one layer as plain numbers (A [fanIn, r], B [r, out]). */
async function factorsOf(layer: LoraLayer, adapter: LoraAdapter): Promise<SiteFactors> {
  const [r, out] = adapter.b.shape as [number, number];
  return {
    kind: layer.kind,
    fanIn: adapter.a.shape[0] as number,
    out,
    r,
    variant: adapter.variant,
    scaling: adapter.scaling,
    dropout: adapter.dropout,
    a: await adapter.a.data(),
    b: await adapter.b.data(),
  };
}

/**
 * PEFT's add_weighted_adapter: adds adapter `name`, a weighted combination of existing adapters (rules and their
 * PEFT-faithful details: lora/combine.ts), to every layer that has one of them. Like PEFT, the new adapter is not
 * active and not trainable: `setAdapter(model, name)` switches to it, `saveAdapter` writes it in PEFT's layout
 * (α = r, so scaling 1). Returns the combined sites.
 */
export async function addWeightedAdapter(model: Module, name: string, options: CombineOptions): Promise<CombinedSite[]> {
  const layers = loraLayers(model);
  if (layers.length === 0) throw new Error(`combine "${name}": the model has no LoRA adapters`);
  const factors = new Map<string, Map<string, SiteFactors>>();
  for (const [path, layer] of layers) {
    const bySource = new Map<string, SiteFactors>();
    for (const source of options.adapters ?? []) {
      const adapter = layer.adapter(source);
      if (adapter) bySource.set(source, await factorsOf(layer, adapter));
    }
    factors.set(path, bySource);
  }
  const combined = combineFactors(name, options, factors, adapterNames(model));
  const byPath = new Map(layers);
  for (const site of combined) {
    const layer = byPath.get(site.path)!;
    const rng = new Rng(options.seed ?? 0).fork(site.path).fork(name);
    layer.addAdapterFactors(
      name,
      { r: site.r, alpha: site.r, rslora: false, dropout: site.dropout },
      rng,
      tf.tensor2d(site.a, [site.fanIn, site.r]),
      tf.tensor2d(site.b, [site.r, site.out]),
    );
  }
  return combined;
}
