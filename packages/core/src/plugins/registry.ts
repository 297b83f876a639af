import { isStageDefinition, type AnyStageDefinition } from '../contracts/stage.js';
import { isDatasetDefinition, type AnyDatasetDefinition } from '../contracts/dataset.js';
import { builtinDataset } from '../datasets/builtin.js';
import type { PlacementPlugin } from '../contracts/placement.js';
import { BUILT_IN_ALIASES, pluginPackageName, pluginReferenceProblem } from './package-name.js';
import { didYouMeanSuffix } from './did-you-mean.js';
import {
  CORE_INSTALL_DIR,
  describeSearch,
  importPluginModule,
  listPluginPackages,
  PluginNotFoundError,
  uniqueDirs,
  type ResolvedPluginModule,
} from './resolve-package.js';

export const PLUGIN_KEYWORD = 'rankwise-plugin';

export { pluginPackageName, pluginReferenceProblem, BUILT_IN_ALIASES };

export interface InstalledPlugin {
  name: string;
  version: string;
  description: string;
  /** The node_modules folder it is loaded from, or 'registered' for a plugin object given in code. */
  location: string;
}

export interface PluginRegistryOptions {
  /**
   * Where packages are looked up after the pipeline's own directory (each searched upwards, like Node):
   * the CLI passes its own install; the default is where this copy of @rankwise/core is installed.
   */
  installDirs?: readonly string[];
}

/** What a registry and the views `from(dir)` makes of it share. */
interface RegistryState {
  registered: Map<string, PlacementPlugin<unknown>>;
  /** Stages given as objects (`createRankwise({ stages })`): found by name before any package. */
  stages: Map<string, AnyStageDefinition>;
  /** Loaded packages by entry URL: the same file imported twice is the same plugin. */
  loaded: Map<string, PlacementPlugin<unknown>>;
  loadedStages: Map<string, AnyStageDefinition>;
  /** Datasets given as objects (`createRankwise({ datasets })`), and dataset packages loaded, by entry URL. */
  datasets: Map<string, AnyDatasetDefinition>;
  loadedDatasets: Map<string, AnyDatasetDefinition>;
}

/**
 * Placement plugins (and, through `loadPackage`, any plugin package): objects registered in code first, then
 * packages by npm name, resolved from the pipeline's directory upwards and then from rankwise's install. A
 * reference that is not a package name (a path, a URL) is refused before anything is resolved or imported.
 */
export class PluginRegistry {
  readonly installDirs: readonly string[];
  private readonly state: RegistryState;

  constructor(
    options: PluginRegistryOptions = {},
    /** The pipeline directory lookups start from when a call names none (set by `from`). */
    readonly baseDir?: string,
    state?: RegistryState,
  ) {
    this.installDirs = uniqueDirs(options.installDirs ?? [CORE_INSTALL_DIR]);
    this.state = state ?? {
      registered: new Map(),
      stages: new Map(),
      loaded: new Map(),
      loadedStages: new Map(),
      datasets: new Map(),
      loadedDatasets: new Map(),
    };
  }

  private get registered(): Map<string, PlacementPlugin<unknown>> {
    return this.state.registered;
  }

  register(plugin: PlacementPlugin<unknown>): void {
    this.registered.set(plugin.name, plugin);
  }

  /** A stage given as an object (`createRankwise({ stages })`); found by its name before any package. */
  registerStage(stage: AnyStageDefinition): void {
    this.state.stages.set(stage.name, stage);
  }

  /** A dataset given as an object (`createRankwise({ datasets })`); found by its name before any package. */
  registerDataset(dataset: AnyDatasetDefinition): void {
    this.state.datasets.set(dataset.name, dataset);
  }

  /**
   * The dataset a pipeline in `fromDir` names in `"dataset"`: a built-in (digits, table, …), one registered in code,
   * or a dataset package (its default export, made with defineDataset) resolved exactly like stage packages.
   */
  async getDataset(name: string, fromDir?: string): Promise<AnyDatasetDefinition> {
    const known = builtinDataset(name) ?? this.state.datasets.get(name);
    if (known) return known;
    const { module, resolved } = await this.loadPackage(name, fromDir);
    const cached = this.state.loadedDatasets.get(resolved.entry);
    if (cached) return cached;
    const m = module as { default?: unknown };
    const dataset = [m.default, module].find(isDatasetDefinition);
    if (!dataset)
      throw new Error(`"${name}" (${resolved.dir}) is not a dataset package (its default export needs name, description, options and open: use defineDataset)`);
    if (dataset.name !== name) throw new Error(`"${name}" exports a dataset named "${dataset.name}"; a dataset package's dataset is named after its package`);
    this.state.loadedDatasets.set(resolved.entry, dataset);
    return dataset;
  }

  /**
   * A stage package's definition (its default export), as a pipeline in `fromDir` sees it: by package name,
   * resolved like placement plugins (never a path or URL), and cached.
   */
  async getStage(name: string, fromDir?: string): Promise<AnyStageDefinition> {
    const registered = this.state.stages.get(name);
    if (registered) return registered;
    const { module, resolved } = await this.loadPackage(name, fromDir);
    const cached = this.state.loadedStages.get(resolved.entry);
    if (cached) return cached;
    const m = module as { default?: unknown };
    const stage = [m.default, module].find(isStageDefinition);
    if (!stage)
      throw new Error(
        `"${name}" (${resolved.dir}) is not a stage package (its default export needs name, options, requires, provides and run: use defineStage)`,
      );
    if (stage.name !== name) throw new Error(`"${name}" exports a stage named "${stage.name}"; a stage package's stage is named after its package`);
    this.state.loadedStages.set(resolved.entry, stage);
    return stage;
  }

  /**
   * The installed plugin packages a pipeline in `fromDir` can use (the same search as loading), imported and
   * sorted into placement plugins and stages, plus those registered in code. A package that fails to import is
   * left out here; naming it in a pipeline reports why.
   */
  async loadInstalled(
    fromDir?: string,
  ): Promise<{ placements: Array<PlacementPlugin<unknown>>; stages: AnyStageDefinition[]; datasets: AnyDatasetDefinition[] }> {
    const placements: Array<PlacementPlugin<unknown>> = [];
    const stages: AnyStageDefinition[] = [];
    const datasets: AnyDatasetDefinition[] = [];
    for (const pkg of listPluginPackages(PLUGIN_KEYWORD, this.searchDirs(fromDir))) {
      const loaded = await this.loadPackage(pkg.name, fromDir).catch(() => null);
      if (!loaded) continue;
      const m = loaded.module as { default?: unknown };
      const stage = [m.default, loaded.module].find(isStageDefinition);
      if (stage) {
        stages.push(stage);
        continue;
      }
      const dataset = [m.default, loaded.module].find(isDatasetDefinition);
      if (dataset) {
        datasets.push(dataset);
        continue;
      }
      const plugin = pickPlugin(loaded.module);
      if (plugin) placements.push(plugin);
    }
    for (const plugin of this.registered.values()) if (!placements.some((p) => p.name === plugin.name)) placements.push(plugin);
    for (const stage of this.state.stages.values()) if (!stages.some((s) => s.name === stage.name)) stages.push(stage);
    for (const dataset of this.state.datasets.values()) if (!datasets.some((d) => d.name === dataset.name)) datasets.push(dataset);
    return { placements, stages, datasets };
  }

  /** Where a pipeline in `fromDir` has its packages looked up, in order. */
  searchDirs(fromDir = this.baseDir): string[] {
    return uniqueDirs([...(fromDir ? [fromDir] : []), ...this.installDirs]);
  }

  /** This registry as a pipeline in `dir` sees it: the same plugins and caches, lookups starting from `dir`. */
  from(dir: string): PluginRegistry {
    return new PluginRegistry({ installDirs: this.installDirs }, dir, this.state);
  }

  /**
   * The plugin a pipeline in `fromDir` names. Throws an Error saying what is wrong: not a package name (nothing
   * is resolved), not installed (where it looked, what to install), or not a placement plugin.
   */
  async get(reference: string, fromDir?: string): Promise<PlacementPlugin<unknown>> {
    const problem = pluginReferenceProblem(reference);
    if (problem) throw new Error(problem);
    const name = pluginPackageName(reference);
    const registered = this.registered.get(name);
    if (registered) return registered;
    const { module, resolved } = await this.loadPackage(name, fromDir);
    const cached = this.state.loaded.get(resolved.entry);
    if (cached) return cached;
    const plugin = pickPlugin(module);
    if (!plugin) throw new Error(`"${name}" (${resolved.dir}) is not a placement plugin: its default export needs name, optionsSchema and select`);
    this.state.loaded.set(resolved.entry, plugin);
    return plugin;
  }

  /**
   * Imports the package `name` (a checked npm name) as a pipeline in `fromDir` sees it; the shared step for
   * placement plugins and stage packages. Not installed: an Error naming the folders searched and the install
   * command.
   */
  async loadPackage(name: string, fromDir?: string): Promise<{ module: unknown; resolved: ResolvedPluginModule }> {
    const problem = pluginReferenceProblem(name);
    if (problem) throw new Error(problem);
    const dirs = this.searchDirs(fromDir);
    try {
      return await importPluginModule(name, dirs);
    } catch (error) {
      if (!(error instanceof PluginNotFoundError)) throw error;
      const known = (await this.installed(fromDir)).map((p) => p.name);
      throw new Error(
        `plugin "${name}" is not installed${didYouMeanSuffix(name, [...known, ...Object.keys(BUILT_IN_ALIASES)])}: looked in node_modules from ${describeSearch(dirs)}; ` +
          `install it next to the pipeline: npm install ${name}` +
          ` (installed plugins: ${known.length > 0 ? known.join(', ') : 'none'})`,
      );
    }
  }

  /**
   * Packages with the `rankwise-plugin` keyword that a pipeline in `fromDir` can use, found by the same search as
   * `get` (each where it would load from), plus plugins registered in code.
   */
  async installed(fromDir?: string): Promise<InstalledPlugin[]> {
    const found = new Map<string, InstalledPlugin>();
    for (const plugin of [...this.registered.values(), ...this.state.stages.values(), ...this.state.datasets.values()]) {
      found.set(plugin.name, { name: plugin.name, version: '', description: plugin.description, location: 'registered' });
    }
    for (const pkg of listPluginPackages(PLUGIN_KEYWORD, this.searchDirs(fromDir))) {
      if (!found.has(pkg.name)) found.set(pkg.name, { name: pkg.name, version: pkg.version, description: pkg.description, location: pkg.foundIn });
    }
    return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
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
