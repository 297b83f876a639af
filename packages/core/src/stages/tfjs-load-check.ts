import { relative, resolve } from 'node:path';
import { inspectTfjsModel, TfjsModelError } from '@rankwise/formats';
import type { ModelDescription } from '@rankwise/models/description';
import { describeTopology } from '@rankwise/models';

/**
 * `load.tfjs` at validation time: reads model.json and checks topology, manifest and shard sizes (no weight becomes a
 * tensor); model.json and the shards go into the content hash. Problems are one issue at /tfjs naming the file and
 * the pointer inside it.
 */
export async function describeTfjsLoad(
  path: string,
  dir: string,
  issue: (pointer: string, message: string) => void,
  hashFile: (path: string) => Promise<void>,
): Promise<ModelDescription | null> {
  const shown = (file: string) => relative(process.cwd(), file) || file;
  try {
    const files = await inspectTfjsModel(resolve(dir, path));
    for (const file of [files.file, ...files.shards]) await hashFile(file);
    return describeTopology(files.topology, shown(files.file));
  } catch (error) {
    if (!(error instanceof TfjsModelError)) throw error;
    issue('/tfjs', `${shown(error.file)}: ${error.pointer === '' ? '' : `${error.pointer}: `}${error.detail}`);
    return null;
  }
}
