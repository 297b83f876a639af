import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { moduleResolve } from 'import-meta-resolve';

/**
 * Finding plugin packages (placement plugins, stage packages) by npm name, the way Node finds a dependency:
 * `<dir>/node_modules/<name>`, then each parent directory's `node_modules`, for each starting directory in turn
 * (the pipeline's own directory first, then where rankwise is installed). Only names reach this module: callers
 * check references with `pluginReferenceProblem` first, so paths and URLs are never resolved, let alone imported.
 */

/** Where this copy of @rankwise/core is installed: the default place to look after the pipeline's project. */
export const CORE_INSTALL_DIR = fileURLToPath(new URL('.', import.meta.url));

/**
 * Conditions a package entry is resolved with: Node's own, plus `source` when core itself runs from its
 * TypeScript source (inside the rankwise repository, under tsx or vitest), so workspace plugins load from src/.
 */
const CONDITIONS = new Set(['node', 'import', ...(import.meta.url.endsWith('.ts') ? ['source'] : [])]);

export interface PluginPackage {
  name: string;
  version: string;
  description: string;
  keywords: string[];
  /** The package's folder (symlinks resolved). */
  dir: string;
  /** The node_modules folder it was found in. */
  foundIn: string;
}

export interface ResolvedPluginModule extends PluginPackage {
  /** file: URL of the module `import(name)` would load from there. */
  entry: string;
}

/** A package name found in none of the node_modules folders searched. */
export class PluginNotFoundError extends Error {
  constructor(
    readonly packageName: string,
    /** The directories the search started from (each searched upwards). */
    readonly searchedFrom: readonly string[],
  ) {
    super(`package "${packageName}" is not installed; looked in node_modules from ${describeSearch(searchedFrom)}`);
    this.name = 'PluginNotFoundError';
  }
}

/** "/a/b upwards, then /c upwards" */
export function describeSearch(fromDirs: readonly string[]): string {
  return fromDirs.map((d) => `${d} upwards`).join(', then ');
}

/** The node_modules folders Node searches from `dir`: its own, then each parent's (never node_modules/node_modules). */
export function nodeModulesChain(dir: string): string[] {
  const chain: string[] = [];
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (basename(current) !== 'node_modules') chain.push(join(current, 'node_modules'));
    if (dirname(current) === current) return chain;
  }
}

/** Starting directories without repeats, in order. */
export function uniqueDirs(fromDirs: readonly string[]): string[] {
  return [...new Set(fromDirs.map((d) => resolve(d)))];
}

function readPackage(dir: string, foundIn: string): PluginPackage | null {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Partial<Record<'name' | 'version' | 'description', unknown>> & {
      keywords?: unknown;
    };
    if (typeof pkg.name !== 'string') return null;
    return {
      name: pkg.name,
      version: typeof pkg.version === 'string' ? pkg.version : '',
      description: typeof pkg.description === 'string' ? pkg.description : '',
      keywords: Array.isArray(pkg.keywords) ? pkg.keywords.filter((k): k is string => typeof k === 'string') : [],
      dir: realpathSync(dir),
      foundIn,
    };
  } catch {
    return null; // no or unreadable package.json: not a package
  }
}

/** The first `<node_modules>/<name>` along the search, or null. */
export function findPluginPackage(name: string, fromDirs: readonly string[]): PluginPackage | null {
  for (const from of uniqueDirs(fromDirs)) {
    for (const nodeModules of nodeModulesChain(from)) {
      const pkg = readPackage(join(nodeModules, ...name.split('/')), nodeModules);
      if (pkg && pkg.name === name) return pkg;
    }
  }
  return null;
}

/**
 * Resolves a package name (already checked to be one) to the module `import()` would load, searching from each
 * directory in `fromDirs` upwards. Throws PluginNotFoundError when absent, or an Error when the package is there
 * but has no loadable entry (e.g. it was never built).
 */
export function resolvePluginModule(name: string, fromDirs: string | readonly string[]): ResolvedPluginModule {
  const dirs = typeof fromDirs === 'string' ? [fromDirs] : fromDirs;
  const pkg = findPluginPackage(name, dirs);
  if (!pkg) throw new PluginNotFoundError(name, uniqueDirs(dirs));
  let entry: URL;
  try {
    // Resolved from the folder holding that node_modules, so Node's own lookup lands on the same package.
    entry = moduleResolve(name, pathToFileURL(join(dirname(pkg.foundIn), 'noop.js')), CONDITIONS, false);
  } catch (error) {
    throw new Error(`package "${name}" (${pkg.dir}) has no loadable entry point: ${(error as Error).message.split('\n')[0]}`);
  }
  return { ...pkg, entry: entry.href };
}

/** Resolves (as resolvePluginModule) and imports the package's entry. */
export async function importPluginModule(name: string, fromDirs: string | readonly string[]): Promise<{ module: unknown; resolved: ResolvedPluginModule }> {
  const resolved = resolvePluginModule(name, fromDirs);
  try {
    return { module: await import(resolved.entry), resolved };
  } catch (error) {
    throw new Error(`package "${name}" (${resolved.dir}) failed to load: ${(error as Error).message.split('\n')[0]}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/**
 * Every package with `keyword` in the node_modules folders the same search visits, in the same order; a name
 * found twice is listed where it would be loaded from (the first place).
 */
export function listPluginPackages(keyword: string, fromDirs: readonly string[]): PluginPackage[] {
  const found = new Map<string, PluginPackage>();
  for (const from of uniqueDirs(fromDirs)) {
    for (const nodeModules of nodeModulesChain(from)) {
      for (const entry of entries(nodeModules)) {
        if (entry.startsWith('.')) continue;
        const dirs = entry.startsWith('@') ? entries(join(nodeModules, entry)).map((e) => join(nodeModules, entry, e)) : [join(nodeModules, entry)];
        for (const dir of dirs) {
          if (!isDirectory(dir)) continue;
          const pkg = readPackage(dir, nodeModules);
          if (pkg?.keywords.includes(keyword) && !found.has(pkg.name)) found.set(pkg.name, pkg);
        }
      }
    }
  }
  return [...found.values()];
}
