import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ModuleLoader } from '@rankwise/core';

/**
 * A user's project in a temp folder with two installed packages written as plain JavaScript (as npm would install
 * them): a placement plugin and a stage package, both with the `rankwise-plugin` keyword.
 */
export async function pluginProject(): Promise<{ dir: string; loader: ModuleLoader }> {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-project-'));
  const pkg = async (name: string, description: string, source: string) => {
    const root = join(dir, 'node_modules', name);
    await mkdir(root, { recursive: true });
    await writeFile(
      join(root, 'package.json'),
      JSON.stringify({ name, version: '1.0.0', description, type: 'module', main: 'index.js', keywords: ['rankwise-plugin'] }),
    );
    await writeFile(join(root, 'index.js'), source);
  };
  await pkg(
    '@acme/placement-largest',
    'the largest sites',
    `export default {
  name: '@acme/placement-largest',
  description: 'adapts the k largest weight matrices',
  optionsSchema: { type: 'object', additionalProperties: false, required: ['count'], properties: { count: { type: 'integer', minimum: 1, description: 'How many sites.' } } },
  select(sites, options) {
    // a PlacementError of its own (as a plugin resolving a second copy of core would throw): recognised by shape
    if (options.count > sites.length) throw Object.assign(new Error('count ' + options.count + ' is more than the ' + sites.length + ' sites'), { name: 'PlacementError', pointer: '/count' });
    return [...sites].filter((s) => s.role !== 'head').sort((a, b) => b.inFeatures * b.outFeatures - a.inFeatures * a.outFeatures).slice(0, options.count).map((s) => ({ path: s.path }));
  },
};\n`,
  );
  await pkg(
    'rankwise-stage-scale-lr',
    'a stage',
    `export default {
  name: 'rankwise-stage-scale-lr',
  description: 'reports the number of parameters times a factor',
  options: { type: 'object', additionalProperties: false, required: ['factor'], properties: { factor: { type: 'number', exclusiveMinimum: 0, description: 'The factor.' } } },
  requires: ['model'],
  provides: [],
  run(options, ctx) { return { scaled: ctx.model.require('rankwise-stage-scale-lr').parameters().length * options.factor }; },
};\n`,
  );
  const loader: ModuleLoader = async (name) => import(pathToFileURL(join(dir, 'node_modules', name, 'index.js')).href);
  return { dir, loader };
}
