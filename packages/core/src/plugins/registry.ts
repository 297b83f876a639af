import { readFile } from 'node:fs/promises';
import fg from 'fast-glob';
import { defaultModuleLoader, isNotInstalled, type ModuleLoader } from '../backend/module-loader.js';
import { isStageDefinition, type AnyStageDefinition } from '../contracts/stage.js';
import type { PlacementPlugin } from '../contracts/placement.js';

export const PLUGIN_KEYWORD = 'rankwise-plugin';

/** `pattern` → `@rankwise/placement-pattern`; full package names pass through. */
export function pluginPackageName(reference: string): string {
  return /^[a-z0-9-]+$/.test(reference) ? `@rankwise/placement-${reference}` : reference;
}

export interface InstalledPlugin {
  name: string;
  version: string;
  description: string;
}

/** Placement plugins: registered objects first, then packages imported by name (and cached). */
export class PluginRegistry {
  private readonly plugins = new Map<string, PlacementPlugin<unknown>>();

  constructor(
    private readonly loader: ModuleLoader = defaultModuleLoader,
    private readonly searchRoot: string = process.cwd(),
  ) {}

  private readonly stages = new Map<string, AnyStageDefinition>();

  register(plugin: PlacementPlugin<unknown>): void {
    this.plugins.set(plugin.name, plugin);
  }

  /** A stage given as an object (`createRankwise({ stages })`); found by its name before any package. */
  registerStage(stage: AnyStageDefinition): void {
    this.stages.set(stage.name, stage);
  }

  /** A stage package's definition (its default export), imported by package name and cached. */
  async getStage(name: string): Promise<AnyStageDefinition> {
    const cached = this.stages.get(name);
    if (cached) return cached;
    let module: unknown;
    try {
      module = await this.loader(name);
    } catch (error) {
      if (!isNotInstalled(error, name)) throw new Error(`stage package "${name}" failed to load: ${(error as Error).message}`);
      throw new Error(`"${name}" is not installed`);
    }
    const m = module as { default?: unknown };
    const stage = [m.default, module].find(isStageDefinition);
    if (!stage) throw new Error(`"${name}" is not a stage package (its default export needs name, options, requires, provides and run: use defineStage)`);
    if (stage.name !== name) throw new Error(`"${name}" exports a stage named "${stage.name}"; a stage package's stage is named after its package`);
    this.stages.set(name, stage);
    return stage;
  }

  /** Installed packages with the `rankwise-plugin` keyword, imported and sorted into placements and stages. */
  async loadInstalled(): Promise<{ placements: Array<PlacementPlugin<unknown>>; stages: AnyStageDefinition[] }> {
    const placements: Array<PlacementPlugin<unknown>> = [];
    const stages: AnyStageDefinition[] = [];
    for (const { name } of await this.installed()) {
      const module = (await this.loader(name).catch(() => null)) as { default?: unknown } | null;
      if (!module) continue;
      const stage = [module.default, module].find(isStageDefinition);
      if (stage) {
        stages.push(stage);
        continue;
      }
      const plugin = pickPlugin(module);
      if (plugin) placements.push(plugin);
    }
    for (const plugin of this.plugins.values()) if (!placements.some((p) => p.name === plugin.name)) placements.push(plugin);
    for (const stage of this.stages.values()) if (!stages.some((s) => s.name === stage.name)) stages.push(stage);
    return { placements, stages };
  }

  /** The plugin, or an Error listing the known ones. */
  async get(reference: string): Promise<PlacementPlugin<unknown>> {
    const name = pluginPackageName(reference);
    const cached = this.plugins.get(name);
    if (cached) return cached;
    let module: unknown;
    try {
      module = await this.loader(name);
    } catch (error) {
      if (!isNotInstalled(error, name)) throw new Error(`plugin "${name}" failed to load: ${(error as Error).message}`);
      const known = await this.knownNames();
      throw new Error(`unknown plugin "${reference}"; known: ${known.length > 0 ? known.join(', ') : 'none installed'}`);
    }
    const plugin = pickPlugin(module);
    if (!plugin) throw new Error(`"${name}" is not a placement plugin (its default export needs name, optionsSchema and select)`);
    this.plugins.set(name, plugin);
    return plugin;
  }

  /** Packages with the `rankwise-plugin` keyword under node_modules (and workspace plugins/), plus registered ones. */
  async installed(): Promise<InstalledPlugin[]> {
    const files = await fg(['node_modules/@*/*/package.json', 'node_modules/*/package.json', 'plugins/*/package.json'], {
      cwd: this.searchRoot,
      absolute: true,
      followSymbolicLinks: true,
      deep: 3,
    });
    const found = new Map<string, InstalledPlugin>();
    for (const file of files) {
      try {
        const pkg = JSON.parse(await readFile(file, 'utf8')) as { name?: string; version?: string; description?: string; keywords?: string[] };
        if (pkg.name && pkg.keywords?.includes(PLUGIN_KEYWORD)) {
          found.set(pkg.name, { name: pkg.name, version: pkg.version ?? '', description: pkg.description ?? '' });
        }
      } catch {
        // unreadable package.json: not a plugin
      }
    }
    for (const plugin of [...this.plugins.values(), ...this.stages.values()]) {
      if (!found.has(plugin.name)) found.set(plugin.name, { name: plugin.name, version: '', description: plugin.description });
    }
    return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private async knownNames(): Promise<string[]> {
    return (await this.installed()).map((p) => p.name);
  }
}

function pickPlugin(module: unknown): PlacementPlugin<unknown> | null {
  const m = module as { default?: unknown; plugin?: unknown };
  for (const candidate of [m.default, m.plugin, module]) {
    const p = candidate as Partial<PlacementPlugin<unknown>> | undefined;
    if (p && typeof p.name === 'string' && typeof p.select === 'function' && typeof p.optionsSchema === 'object') {
      return p as PlacementPlugin<unknown>;
    }
  }
  return null;
}

