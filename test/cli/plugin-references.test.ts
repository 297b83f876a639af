import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from '../helpers/cli.js';

/**
 * Security: validating a pipeline never runs code it points at. Each pipeline names, as its placement plugin,
 * something that is not an npm package name; each target is real code that would write a marker file if it were
 * imported. `rankwise validate` must refuse every one with exit 2 and a JSON-pointer error, and no marker appears.
 */
const dir = realpathSync(mkdtempSync(join(tmpdir(), 'rankwise-refs-')));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const marker = (name: string) => join(dir, `ran-${name}`);
/** A module whose import writes marker(name) and which would be a valid placement plugin. */
const payload = (name: string) =>
  `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker(name))}, 'imported');\n` +
  `export default { name: 'evil', description: 'x', optionsSchema: { type: 'object' }, select: (sites) => sites.map((s) => ({ path: s.path })) };\n`;

for (const name of ['absolute', 'relative', 'parent', 'file-url']) writeFileSync(join(dir, `${name}.mjs`), payload(name));
const dataUrl = `data:text/javascript,${encodeURIComponent(payload('data'))}`;

const references: Record<string, { plugin: string; found: string }> = {
  absolute: { plugin: join(dir, 'absolute.mjs'), found: 'a path' },
  relative: { plugin: './relative.mjs', found: 'a path' },
  parent: { plugin: '../parent.mjs', found: 'a path' },
  'file-url': { plugin: pathToFileURL(join(dir, 'file-url.mjs')).href, found: 'a URL or protocol' },
  data: { plugin: dataUrl, found: 'a URL or protocol' },
  http: { plugin: 'http://127.0.0.1:9/plugin.js', found: 'a URL or protocol' },
  node: { plugin: 'node:child_process', found: 'a URL or protocol' },
};

function pipelineFile(name: string, plugin: string, where = dir): string {
  const file = join(where, `${name}.json`);
  const stages = [
    { stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } },
    { stage: 'freeze' },
    { stage: 'inject', r: 2, placement: { plugin, options: {} } },
  ];
  writeFileSync(file, JSON.stringify({ name: `refs-${name}`, stages }));
  return file;
}

describe('rankwise validate refuses plugin references that are not package names, importing nothing', () => {
  test('the payloads are live: importing one directly does write its marker', async () => {
    const probe = join(dir, 'probe.mjs');
    writeFileSync(probe, payload('probe'));
    await import(pathToFileURL(probe).href);
    expect(existsSync(marker('probe'))).toBe(true);
  });

  test('paths, file:/data:/http:/node: URLs: exit 2, one pointer error each, no marker written', () => {
    const files = Object.entries(references).map(([name, { plugin }]) => pipelineFile(name, plugin));
    // ../parent.mjs seen from a pipeline one folder down points at the real payload.
    const nested = join(dir, 'nested');
    mkdirSync(nested);
    files.push(pipelineFile('nested-parent', '../parent.mjs', nested));
    // The same reference inside a grid is refused the same way.
    const gridFile = join(dir, 'grid.json');
    writeFileSync(
      gridFile,
      JSON.stringify({
        name: 'refs-grid',
        stages: [
          { stage: 'load', architecture: 'mlp', config: { sizes: [784, 8, 10] } },
          { stage: 'freeze' },
          { stage: 'inject', r: 2, placement: { plugin: 'pattern', options: { target: 'layers.*' } } },
          { stage: 'train', data: { dataset: 'digits', split: 'train', limit: 64 }, steps: 1, optimizer: { name: 'sgd', lr: 0.1 } },
          { stage: 'evaluate', data: { dataset: 'digits', split: 'test', limit: 64 } },
        ],
        grid: { rank: [1], placement: [{ label: 'evil', plugin: dataUrl }] },
      }),
    );
    files.push(gridFile);

    const result = runCli(['validate', ...files]);
    expect(result.status).toBe(2);
    expect(result.stdout).not.toContain('✓');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(files.length);
    for (const [i, [name, { plugin, found }]] of Object.entries(references).entries()) {
      expect(lines[i]).toContain(`${name}.json: /stages/2/placement/plugin: found ${JSON.stringify(plugin)}, ${found}; allowed: an npm package name`);
    }
    expect(lines[files.length - 2]).toContain('nested-parent.json: /stages/2/placement/plugin: found "../parent.mjs", a path;');
    expect(lines[files.length - 1]).toContain(`grid.json: /grid/placement/0/plugin: found ${JSON.stringify(dataUrl)}, a URL or protocol;`);
    for (const name of ['absolute', 'relative', 'parent', 'file-url', 'data']) expect(existsSync(marker(name)), name).toBe(false);
  });
});
