import type { Module } from './module.js';

/** A weight matrix that can take LoRA factors: a Linear, addressed by its dotted path. */
export interface Site {
  /** Dotted path in the model tree, e.g. `layers.1` or `blocks.2.attn.q`. */
  path: string;
  inFeatures: number;
  outFeatures: number;
  /** Index of the layer / block the site belongs to; null for sites outside the repeated stack. */
  layer: number | null;
  /** What the matrix does: `hidden`, `head`, `attn.q`, `attn.k`, `attn.v`, `attn.o`, `mlp.fc`, `mlp.proj`… */
  role: string;
  /** Whether it already carries LoRA factors. */
  adapted: boolean;
}

/** A module that is a site (Linear, LoraLinear): the walk stops there. */
export interface SiteModule {
  describeSite(path: string): Site;
}

export function isSiteModule(module: Module): module is Module & SiteModule {
  return typeof (module as Partial<SiteModule>).describeSite === 'function';
}

/** Every site of a model in tree order. */
export function listSites(model: Module): Site[] {
  const sites: Site[] = [];
  const walk = (module: Module, path: string): void => {
    if (isSiteModule(module)) {
      sites.push(module.describeSite(path));
      return;
    }
    for (const [name, child] of module.namedChildren()) walk(child, path === '' ? name : `${path}.${name}`);
  };
  walk(model, '');
  return sites;
}
