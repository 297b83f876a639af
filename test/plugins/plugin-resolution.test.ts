import 'reflect-metadata';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import type { Site } from '@rankwise/core';
import { PluginRegistry, pluginReferenceProblem, resolvePluginModule } from '@rankwise/core/internal';

/**
 * A project laid out as npm would install it:
 *   project/node_modules/rankwise-placement-largest   (unscoped, picks the k largest sites)
 *   project/node_modules/@acme/placement-first        (scoped)
 *   project/node_modules/not-a-plugin                 (no keyword: loadable, never listed)
 *   project/pipelines/deep/                           (where a pipeline sits)
 *   cli/node_modules/rankwise-placement-largest       (a second copy where "the CLI" is installed: shadowed)
 *   cli/node_modules/@acme/cli-only                   (only there)
 */
const root = realpathSync(mkdtempSync(join(tmpdir(), 'rankwise-resolution-')));
const project = join(root, 'project');
const pipelineDir = join(project, 'pipelines', 'deep');
const cliDir = join(root, 'cli', 'dist');

function writePackage(nodeModules: string, name: string, keyword: boolean, body: string): void {
  const dir = join(nodeModules, ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  const pkg = {
    name,
    version: '1.2.3',
    description: `${name} for tests`,
    type: 'module',
    exports: { '.': './index.js' },
    ...(keyword ? { keywords: ['rankwise-plugin'] } : {}),
  };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
  writeFileSync(join(dir, 'index.js'), body);
}

const largest = (marker: string) => `export default {
  name: 'rankwise-placement-largest', description: 'k largest (${marker})',
  optionsSchema: { type: 'object', properties: { k: { type: 'integer', minimum: 1 } }, required: ['k'], additionalProperties: false },
  select(sites, options) { return [...sites].sort((a, b) => b.inFeatures * b.outFeatures - a.inFeatures * a.outFeatures || a.path.localeCompare(b.path)).slice(0, options.k).map((s) => ({ path: s.path })); },
};\n`;
const first = (name: string) =>
  `export default { name: '${name}', description: 'first site', optionsSchema: { type: 'object' }, select: (sites) => [{ path: sites[0].path }] };\n`;

mkdirSync(pipelineDir, { recursive: true });
mkdirSync(cliDir, { recursive: true });
writePackage(join(project, 'node_modules'), 'rankwise-placement-largest', true, largest('project'));
writePackage(join(project, 'node_modules'), '@acme/placement-first', true, first('@acme/placement-first'));
writePackage(join(project, 'node_modules'), 'not-a-plugin', false, 'export const x = 1;\n');
writePackage(join(root, 'cli', 'node_modules'), 'rankwise-placement-largest', true, largest('cli'));
writePackage(join(root, 'cli', 'node_modules'), '@acme/cli-only', true, first('@acme/cli-only'));

afterAll(() => rmSync(root, { recursive: true, force: true }));

const site = (path: string, inFeatures: number, outFeatures: number): Site => ({ path, inFeatures, outFeatures, layer: null, role: path, adapted: false });
const sites = [site('a', 4, 4), site('b', 16, 8), site('c', 8, 8), site('d', 2, 2)];
const registry = () => new PluginRegistry({ installDirs: [cliDir] });

describe('plugin references are npm package names', () => {
  test.each(['rankwise-placement-largest', '@acme/placement-first', '@rankwise/placement-pattern', 'pattern', 'attention', 'a', 'x.y_z-1'])(
    '%s is accepted',
    (name) => {
      expect(pluginReferenceProblem(name)).toBeNull();
    },
  );

  test.each([
    ['/abs/plugin.js', 'a path'],
    ['./plugin.js', 'a path'],
    ['../plugin', 'a path'],
    ['..', 'a path'],
    ['C:\\plugins\\x.js', 'a URL or protocol'],
    ['file:///tmp/x.js', 'a URL or protocol'],
    ['data:text/javascript,export default 1', 'a URL or protocol'],
    ['http://example.com/x.js', 'a URL or protocol'],
    ['https://example.com/x.js', 'a URL or protocol'],
    ['node:fs', 'a URL or protocol'],
    ['fs', 'not a valid npm package name (fs is a core module name)'],
    ['Upper', 'not a valid npm package name (name can no longer contain capital letters)'],
    ['_private', 'not a valid npm package name (name cannot start with an underscore)'],
    ['@scope/a/b', 'not a valid npm package name'],
    ['@scope', 'not a valid npm package name'],
    ['sp ace', 'not a valid npm package name'],
    ['tilde~', 'not a valid npm package name (name can no longer contain special characters'],
    ['', 'not a valid npm package name'],
    ['constructor', null],
  ])('%s is refused: %s', (reference, why) => {
    const problem = pluginReferenceProblem(reference);
    if (why === null) {
      expect(problem).toBeNull(); // an own property check: Object.prototype names are ordinary package names
      return;
    }
    expect(problem).toContain(`found ${JSON.stringify(reference)}, ${why}`);
    expect(problem).toContain('allowed: an npm package name (rankwise-placement-x, @scope/name) or "pattern" / "attention"');
  });
});

describe('PluginRegistry resolves from the pipeline folder upwards, then the install dirs', () => {
  test('an unscoped plugin loads as itself (never rewritten to @rankwise/placement-…) and selects by in×out', async () => {
    const plugin = await registry().get('rankwise-placement-largest', pipelineDir);
    expect(plugin.name).toBe('rankwise-placement-largest');
    expect(plugin.description).toBe('k largest (project)'); // the pipeline's project wins over the CLI's copy
    expect(plugin.select(sites, { k: 2 })).toEqual([{ path: 'b' }, { path: 'c' }]);
  });

  test('a scoped plugin from the project, and one only the install dir has', async () => {
    expect((await registry().get('@acme/placement-first', pipelineDir)).name).toBe('@acme/placement-first');
    expect((await registry().get('@acme/cli-only', pipelineDir)).name).toBe('@acme/cli-only');
    // Without the pipeline's folder, only the install dir is searched: its own copy of largest.
    expect((await registry().get('rankwise-placement-largest')).description).toBe('k largest (cli)');
  });

  test('resolvePluginModule says where the package is and which file import() loads', () => {
    const resolved = resolvePluginModule('rankwise-placement-largest', [pipelineDir, cliDir]);
    expect(resolved.dir).toBe(join(project, 'node_modules', 'rankwise-placement-largest'));
    expect(resolved.foundIn).toBe(join(project, 'node_modules'));
    expect(resolved.entry).toBe(`file://${join(resolved.dir, 'index.js')}`);
    expect(resolved.version).toBe('1.2.3');
  });

  test('installed() lists what get() loads, from the same places (first found wins), keyword packages only', async () => {
    const listed = await registry().installed(pipelineDir);
    expect(listed.map((p) => [p.name, p.location])).toEqual([
      ['@acme/cli-only', join(root, 'cli', 'node_modules')],
      ['@acme/placement-first', join(project, 'node_modules')],
      ['rankwise-placement-largest', join(project, 'node_modules')],
    ]);
  });

  test('a missing plugin: where it looked and what to install; an unscoped short name is not an alias', async () => {
    const error = await registry()
      .get('largest', pipelineDir)
      .catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(
      `plugin "largest" is not installed: looked in node_modules from ${pipelineDir} upwards, then ${cliDir} upwards; ` +
        'install it next to the pipeline: npm install largest (installed plugins: @acme/cli-only, @acme/placement-first, rankwise-placement-largest)',
    );
  });

  test('a package without a placement plugin export is named as such', async () => {
    await expect(registry().get('not-a-plugin', pipelineDir)).rejects.toThrow(
      `"not-a-plugin" (${join(project, 'node_modules', 'not-a-plugin')}) is not a placement plugin: its default export needs name, optionsSchema and select`,
    );
  });

  test('references that are not names are refused before any lookup', async () => {
    await expect(registry().get('./node_modules/rankwise-placement-largest/index.js', project)).rejects.toThrow('a path');
    await expect(registry().loadPackage('file:///etc/passwd', project)).rejects.toThrow('a URL or protocol');
  });

  test('the built-in aliases resolve to the workspace plugins', async () => {
    const plugins = new PluginRegistry();
    expect((await plugins.get('pattern', process.cwd())).name).toBe('@rankwise/placement-pattern');
    expect((await plugins.get('attention', process.cwd())).name).toBe('@rankwise/placement-attention');
  });
});
