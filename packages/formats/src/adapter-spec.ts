import { resolve } from 'node:path';
import { checkAdapterName, DEFAULT_ADAPTER } from '@rankwise/lora';

/** An adapter folder and the name it is loaded under. */
export interface AdapterSource {
  name: string;
  dir: string;
}

/**
 * A command-line adapter: `name=folder` (e.g. `sql=./runs/sql/adapter`), or a bare `folder`, the adapter named
 * "default" (unless `requireName`). The folder is resolved from `cwd`. Throws naming what is wrong.
 */
export function parseAdapterSpec(spec: string, options: { requireName?: boolean; cwd?: string } = {}): AdapterSource {
  const cut = spec.indexOf('=');
  if (cut < 0 && !options.requireName && spec !== '') return { name: DEFAULT_ADAPTER, dir: resolve(options.cwd ?? '.', spec) };
  if (cut <= 0 || cut === spec.length - 1)
    throw new Error(
      `found ${JSON.stringify(spec)}; allowed: <name>=<adapter folder>, e.g. sql=./runs/sql/adapter${options.requireName ? '' : ', or a bare folder'}`,
    );
  const name = spec.slice(0, cut);
  checkAdapterName(name);
  return { name, dir: resolve(options.cwd ?? '.', spec.slice(cut + 1)) };
}
