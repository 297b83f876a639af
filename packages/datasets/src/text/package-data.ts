/** Locates the data folder of an npm package that ships data files. */
import { createRequire } from 'node:module';
import path from 'node:path';

export function packageDataDirectory(packageName: string, folder = 'data'): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve(`${packageName}/package.json`)), folder);
}

/** Caches the result of an async loader per process; a failed load is retried on the next call. */
export function cachedLoader<T>(load: () => Promise<T>): () => Promise<T> {
  let cache: Promise<T> | undefined;
  return () => {
    if (cache === undefined) {
      cache = load().catch((error: unknown) => {
        cache = undefined;
        throw error;
      });
    }
    return cache;
  };
}
