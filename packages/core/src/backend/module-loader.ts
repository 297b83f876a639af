import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Imports an optional package by name; throws an error with `code === 'ERR_MODULE_NOT_FOUND'` when absent. */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

/** True when `error` says the package `specifier` itself is absent (not a file inside it, like a native binding). */
export function isNotInstalled(error: unknown, specifier: string): boolean {
  const message = String((error as Error)?.message ?? error);
  return message.includes(`Cannot find package '${specifier}'`) || message.includes(`Cannot find module '${specifier}'`);
}

/**
 * Optional packages (tfjs-node, backend packages) are not dependencies of core, so they are looked up
 * where core can see them, then from the user's project (the current directory).
 */
export const defaultModuleLoader: ModuleLoader = async (specifier) => {
  try {
    return await import(specifier);
  } catch (error) {
    if (!isNotInstalled(error, specifier)) throw error;
  }
  const resolved = createRequire(join(process.cwd(), 'package.json')).resolve(specifier);
  return import(pathToFileURL(resolved).href);
};
