import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pluginReferenceProblem } from '@rankwise/core/internal';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { UsageError } from '../options.js';
import { scaffoldFiles, type PackageKind } from '../scaffold/templates.js';

const KINDS: readonly PackageKind[] = ['plugin', 'stage', 'dataset'];

/** The version of the @rankwise/core this CLI runs with: the generated package develops against it. */
async function coreVersion(): Promise<string> {
  const coreEntry = fileURLToPath(import.meta.resolve('@rankwise/core'));
  for (let dir = dirname(coreEntry); dir !== dirname(dir); dir = dirname(dir)) {
    const text = await readFile(join(dir, 'package.json'), 'utf8').catch(() => null);
    if (text === null) continue;
    const pkg = JSON.parse(text) as { name?: string; version?: string };
    if (pkg.name === '@rankwise/core' && pkg.version) return pkg.version;
  }
  return '0.1.0';
}

/** `rankwise new plugin|stage|dataset <name> [--dir d]`: a package that builds, passes its own test and installs. */
export async function newCommand(kind: string, name: string, flags: { dir?: string }): Promise<ExitCode> {
  if (!KINDS.includes(kind as PackageKind)) throw new UsageError(`new: found "${kind}", allowed: ${KINDS.join(', ')}`);
  const problem = pluginReferenceProblem(name);
  if (problem) throw new UsageError(`new ${kind}: ${problem}`);
  const dir = resolve(flags.dir ?? name.replace(/^@[^/]+\//, ''));
  const existing = await readdir(dir).catch(() => null);
  if (existing !== null && existing.length > 0)
    throw new UsageError(`new ${kind}: ${relative(process.cwd(), dir) || dir} is not empty; give a new folder with --dir`);
  const files = scaffoldFiles(kind as PackageKind, name, await coreVersion());
  for (const file of files) {
    await mkdir(dirname(join(dir, file.path)), { recursive: true });
    await writeFile(join(dir, file.path), file.text);
  }
  const shown = relative(process.cwd(), dir) || '.';
  console.log(`created ${kind} package ${name} in ${shown}/: ${files.map((f) => f.path).join(', ')}`);
  console.log(`next: cd ${shown} && npm install && npm test; then npm pack, and npm install the .tgz in your project`);
  return EXIT.ok;
}
