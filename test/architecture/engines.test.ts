import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { expect, test } from 'vitest';

interface Manifest {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}
const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;

/** The folders of the published workspace packages (packages/*, plugins/*). */
const workspacePackages = ['packages', 'plugins']
  .flatMap((root) => readdirSync(root).map((name) => join(root, name)))
  .filter((dir) => existsSync(join(dir, 'package.json')));

/**
 * Every package an install of the published packages brings (their dependencies, transitively, as pnpm laid them
 * out: a package's own dependencies are its siblings in the .pnpm store), each once.
 */
function productionClosure(): Map<string, Manifest> {
  const seen = new Map<string, Manifest>();
  const visit = (from: string, deps: Record<string, string>) => {
    for (const name of Object.keys(deps)) {
      const link = join(from, 'node_modules', name);
      if (!existsSync(link)) continue; // an optional dependency not installed here
      const dir = realpathSync(link);
      if (seen.has(dir)) continue;
      const m = manifest(dir);
      seen.set(dir, m);
      // pnpm: <store>/<name@version>/node_modules/<name>; its dependencies sit in that node_modules folder
      const siblings = name.startsWith('@') ? dirname(dirname(dir)) : dirname(dir);
      visit(dirname(siblings), { ...m.dependencies, ...m.optionalDependencies });
    }
  };
  for (const dir of workspacePackages) {
    const m = manifest(dir);
    visit(dir, { ...m.dependencies, ...m.optionalDependencies });
  }
  return seen;
}

// The README asks for Node 20: nothing a user installs may say it needs a newer one (npm warns on every install).
test('every dependency the published packages install accepts Node 20 (engines.node), so installs print no engine warning', () => {
  const closure = productionClosure();
  expect(closure.size).toBeGreaterThan(20);
  const node20 = '20.19.0';
  const refusing = [...closure.values()]
    .filter((m) => m.engines?.node !== undefined && !semver.satisfies(node20, m.engines.node, { includePrerelease: true }))
    .map((m) => `${m.name}@${m.version} (engines.node ${m.engines!.node})`);
  expect(refusing).toEqual([]);
});
