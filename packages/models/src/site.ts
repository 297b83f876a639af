import type { Site } from './types/site.js';
import type { Module } from './module.js';

export type { Site } from './types/site.js';

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
