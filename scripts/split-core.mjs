#!/usr/bin/env node
// Splits @rankwise/core by concern into @rankwise/models, @rankwise/lora, @rankwise/formats and core proper
// (the map and the reasons are in scripts/split-core-map.mjs). Re-runnable on any main that has not been split yet:
//
//   git checkout main && node scripts/split-core.mjs && pnpm install && pnpm typecheck
//
// What it does, in order:
//   1. reads every TypeScript file of the repository (packages, plugins, test, bench, examples, scripts) and every
//      relative import / export / dynamic import / import type in it, resolved against the tree before the move;
//   2. `git mv`s the folders and files of the map;
//   3. rewrites each specifier: inside one package it stays relative (recomputed for the new places); from one of
//      the four packages into another it becomes the bare name (`@rankwise/models`), and the names imported that
//      way are what the lower package's generated `src/index.ts` exports (so each new entry exports exactly what
//      the other packages use, nothing more); from tests, bench and examples it stays a relative path, recomputed;
//   4. writes each new package's package.json (its bare imports become its dependencies, versions taken from
//      core's), tsconfig.json (project references), README.md and src/index.ts; adds the new packages to core's
//      dependencies and references, to tsconfig.build.json and to the root devDependencies; drops from core the
//      dependencies only the moved code used;
//   5. rewrites `packages/core/src/<moved>` paths in Markdown and other text files;
//   6. checks that every relative specifier in the tree resolves to a file (and fails loudly if not).
// It needs: a clean git work tree, Node ≥ 20, the root devDependency `typescript` (for parsing only).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { LAYERS, MOVES } from './split-core-map.mjs';

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
process.chdir(ROOT);
const CORE_SRC = 'packages/core/src';
const NEW = LAYERS.filter((p) => p !== 'core');
const DESCRIPTIONS = {
  models: 'Model modules for rankwise on TensorFlow.js: Module, Linear, Embedding, attention, RMSNorm, rotary, KV cache, the llama-style architectures and model families (llama, gemma, phi3), GPT, Keras layer models, sites and seeded random streams.',
  lora: 'LoRA for rankwise models: LoRA layers (linear, embedding, conv2d), DoRA, init (gaussian, PiSSA, OLoRA), inject, merge, combine, freeze, parameter reports.',
  formats: 'File formats for rankwise: safetensors, PEFT adapter files and configs, Hugging Face model folders, TensorFlow.js models, GGUF models and adapters, checkpoints and atomic writes.',
};
const CONTENTS = {
  models: ['`module.ts`: `Module`, named children and `tf.Variable` parameters', '`linear.ts`, `embedding.ts`, `conv2d.ts`, `layer-norm.ts`, `rmsnorm.ts`, `mlp.ts`, `attention.ts`, `rotary.ts`, `rope-scaling.ts`, `kv-cache.ts`: the building blocks', '`llama.ts`, `families/`: the llama-style decoder and the families that switch its parts (`config.json` `model_type`)', '`gpt.ts`, `sequential.ts`, `layers-model.ts`, `keras-topology.ts`: the other architectures', '`site.ts`, `embedding-site.ts`, `description.ts`: what a placement sees', '`random.ts`: seeded random streams'],
  lora: ['`lora-layer.ts`, `lora-linear.ts`, `lora-embedding.ts`, `lora-conv2d.ts`: the adapted layers', '`dora.ts`, `init.ts`: DoRA and the initialisations', '`inject.ts`, `merge.ts`, `freeze.ts`: putting adapters in, folding them out', '`adapters.ts`, `combine.ts`, `combine-rules.ts`, `weighted-adapter.ts`: several adapters at once'],
  formats: ['`safetensors.ts`, `safetensors-stream.ts`, `tensor-file.ts`: safetensors', '`peft-adapter.ts`, `peft-config.ts`, `peft-layout.ts`, `adapter-*.ts`: PEFT adapter folders', '`huggingface.ts`, `huggingface-check.ts`: Hugging Face model folders', '`tfjs-model.ts`, `tfjs-save.ts`: TensorFlow.js models', '`gguf-llama.ts`, `gguf-adapter.ts`: GGUF (over `@rankwise/gguf`)', '`checkpoint.ts`, `atomic-write.ts`, `json-text.ts`, `fs-errors.ts`: checkpoints and safe writes'],
};

function git(...args) {
  return execFileSync('git', args, { encoding: 'utf8' });
}
function fail(message) {
  console.error(`split-core: ${message}`);
  process.exit(1);
}

// ---- 0. preconditions
if (NEW.some((p) => existsSync(`packages/${p}/package.json`))) fail(`packages/{${NEW.join(',')}}/package.json exist: the split has been done`);
if (git('status', '--porcelain', '--untracked-files=no').trim()) fail('the work tree has uncommitted changes; commit or stash them first');

// ---- path mapping
/** Old repo-relative path (with any extension) → its path after the split. */
function moved(path) {
  if (!path.startsWith(`${CORE_SRC}/`)) return path;
  const rel = path.slice(CORE_SRC.length + 1);
  for (const m of MOVES) {
    if (rel === m.from || rel.startsWith(`${m.from}/`) || rel.startsWith(`${m.from}.`)) {
      const rest = rel.slice(m.from.length);
      const to = m.to === '' ? rest.replace(/^\//, '') : `${m.to}${rest}`;
      return `packages/${m.pkg}/src${to ? `/${to}` : ''}`;
    }
  }
  return path;
}
/** `packages/<name>/src/…` → name of one of the four split packages, else null. */
function layerOf(path) {
  const m = /^packages\/([^/]+)\/src\//.exec(path);
  return m && LAYERS.includes(m[1]) ? m[1] : null;
}

// ---- 1. every TypeScript file and its relative specifiers
const SCAN = ['packages', 'plugins', 'test', 'bench', 'examples', 'scripts'];
function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) return [];
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : /\.(ts|tsx|mts|cts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}
const files = SCAN.flatMap(walk).map((f) => f.split(sep).join('/'));

/** Module specifiers of a file with their positions, the names imported through each, and whether all are types. */
function specifiersOf(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found = [];
  const add = (literal, names, kind) => found.push({ start: literal.getStart(source) + 1, end: literal.getEnd() - 1, text: literal.text, names, kind });
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      let names = null; // null: every export of the target (star / namespace) or a side-effect import
      let kind = 'static';
      if (ts.isImportDeclaration(node)) {
        const clause = node.importClause;
        if (!clause) kind = 'side-effect';
        else if (clause.name) kind = 'default';
        else if (clause.namedBindings && ts.isNamedImports(clause.namedBindings)) {
          names = clause.namedBindings.elements.map((e) => ({ name: (e.propertyName ?? e.name).text, type: clause.isTypeOnly || e.isTypeOnly }));
        } else kind = 'namespace';
      } else if (node.exportClause && ts.isNamedExports(node.exportClause)) {
        names = node.exportClause.elements.map((e) => ({ name: (e.propertyName ?? e.name).text, type: node.isTypeOnly || e.isTypeOnly }));
      } else kind = 'namespace';
      add(node.moduleSpecifier, names, kind);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      add(node.arguments[0], null, 'dynamic');
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal, null, 'import-type');
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

// ---- plan the rewrites before moving anything
/** package → Map(file (relative to its src, no extension) → Map(name → typeOnly)) */
const exportsNeeded = Object.fromEntries(NEW.map((p) => [p, new Map()]));
const edits = new Map(); // new path → [{start, end, replacement}]
let crossings = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const newFile = moved(file);
  const list = [];
  for (const s of specifiersOf(file, text)) {
    if (!s.text.startsWith('.')) continue;
    const target = relative(ROOT, resolve(dirname(file), s.text)).split(sep).join('/');
    const newTarget = moved(target);
    if (newFile === file && newTarget === target) continue;
    const from = layerOf(newFile);
    const to = layerOf(newTarget);
    let replacement;
    if (from && to && from !== to) {
      if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) fail(`${file} imports ${s.text}: ${from} → ${to} points upward (fix the dependency first)`);
      if (!s.names) fail(`${file}: a ${s.kind} import of ${s.text} crosses from @rankwise/${from} to @rankwise/${to}; make it a named import first`);
      const key = newTarget.slice(`packages/${to}/src/`.length).replace(/\.(js|ts)$/, '');
      const table = exportsNeeded[to];
      if (!table.has(key)) table.set(key, new Map());
      for (const { name, type } of s.names) table.get(key).set(name, (table.get(key).get(name) ?? true) && type);
      replacement = `@rankwise/${to}`;
      crossings++;
    } else {
      replacement = relative(dirname(newFile), newTarget).split(sep).join('/');
      if (!replacement.startsWith('.')) replacement = `./${replacement}`;
    }
    if (replacement !== s.text) list.push({ start: s.start, end: s.end, replacement });
  }
  if (list.length) edits.set(newFile, list);
}

// ---- 2. move
for (const m of MOVES) {
  const candidates = [`${CORE_SRC}/${m.from}`, `${CORE_SRC}/${m.from}.ts`];
  const source = candidates.find((c) => existsSync(c));
  if (!source) fail(`nothing to move at ${candidates.join(' / ')}`);
  if (statSync(source).isDirectory()) {
    for (const name of readdirSync(source)) {
      const dest = moved(`${source}/${name}`);
      if (existsSync(dest)) fail(`${dest} exists already`);
      mkdirSync(dirname(dest), { recursive: true });
      git('mv', `${source}/${name}`, dest);
    }
  } else {
    const dest = moved(source);
    mkdirSync(dirname(dest), { recursive: true });
    git('mv', source, dest);
  }
}

// ---- 3. rewrite specifiers
for (const [file, list] of edits) {
  let text = readFileSync(file, 'utf8');
  for (const e of list.sort((a, b) => b.start - a.start)) text = text.slice(0, e.start) + e.replacement + text.slice(e.end);
  writeFileSync(file, text);
}

// ---- 4. the new packages
const corePkg = JSON.parse(readFileSync('packages/core/package.json', 'utf8'));
const rootPkg = JSON.parse(readFileSync('package.json', 'utf8'));
const versionOf = (dep) => corePkg.dependencies?.[dep] ?? corePkg.devDependencies?.[dep] ?? rootPkg.devDependencies?.[dep];
const bareOf = (spec) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
function bareImports(dir) {
  const found = new Set();
  for (const f of walk(dir)) {
    for (const s of specifiersOf(f, readFileSync(f, 'utf8'))) {
      if (!s.text.startsWith('.') && !s.text.startsWith('node:')) found.add(bareOf(s.text));
    }
  }
  return found;
}
const sortKeys = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
const json = (o) => `${JSON.stringify(o, null, 2)}\n`;

for (const p of NEW) {
  const dir = `packages/${p}`;
  // src/index.ts: what the other packages import, grouped by file
  if (existsSync(`${dir}/src/index.ts`)) fail(`${dir}/src/index.ts exists already`);
  const lines = [`/**\n * \`@rankwise/${p}\`: ${DESCRIPTIONS[p]}\n * Generated by scripts/split-core.mjs from what the other packages import; edit freely afterwards.\n */`];
  // a name imported through two files (one re-exports the other) is exported once, from the file that declares it
  const declares = (key, name) => new RegExp(`export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function\\*?|class|const|let|var|type|interface|enum)\\s+${name}\\b`).test(readFileSync(`${dir}/src/${key}.ts`, 'utf8'));
  const owner = new Map();
  for (const [key, names] of exportsNeeded[p]) {
    for (const [name, type] of names) {
      const seen = owner.get(name);
      if (!seen || (!declares(seen.key, name) && declares(key, name))) owner.set(name, { key, type: (seen?.type ?? true) && type });
      else seen.type = seen.type && type;
    }
  }
  for (const names of exportsNeeded[p].values()) for (const name of [...names.keys()]) names.delete(name);
  for (const [name, { key, type }] of owner) exportsNeeded[p].get(key).set(name, type);
  for (const [key, names] of [...exportsNeeded[p]].sort(([a], [b]) => a.localeCompare(b))) {
    if (!names.size) continue;
    const list = [...names].sort(([a], [b]) => a.localeCompare(b)).map(([name, type]) => (type ? `type ${name}` : name));
    lines.push(`export { ${list.join(', ')} } from './${key}.js';`);
  }
  writeFileSync(`${dir}/src/index.ts`, `${lines.join('\n')}\n`);
  git('add', `${dir}/src/index.ts`);
}
// dependencies after the index files exist (a package's imports include its lower packages)
const depsOf = {};
for (const p of NEW) {
  const deps = {};
  for (const dep of bareImports(`packages/${p}/src`)) {
    if (dep === `@rankwise/${p}`) continue;
    const version = dep.startsWith('@rankwise/') ? 'workspace:*' : versionOf(dep);
    if (!version) fail(`packages/${p} imports ${dep}, which no package.json names`);
    deps[dep] = version;
  }
  depsOf[p] = sortKeys(deps);
}
for (const p of NEW) {
  const dir = `packages/${p}`;
  const pkg = {
    name: `@rankwise/${p}`,
    version: corePkg.version,
    description: DESCRIPTIONS[p],
    type: 'module',
    license: corePkg.license,
    exports: { '.': { source: './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    engines: { node: '>=20' },
    dependencies: depsOf[p],
  };
  writeFileSync(`${dir}/package.json`, json(pkg));
  const references = Object.keys(depsOf[p]).filter((d) => d.startsWith('@rankwise/')).map((d) => ({ path: `../${d.slice('@rankwise/'.length)}` }));
  writeFileSync(`${dir}/tsconfig.json`, json({ extends: '../../tsconfig.base.json', compilerOptions: { composite: true, rootDir: 'src', outDir: 'dist' }, include: ['src'], references }));
  const below = LAYERS.slice(0, LAYERS.indexOf(p)).map((q) => `\`@rankwise/${q}\``);
  const above = LAYERS.slice(LAYERS.indexOf(p) + 1).map((q) => `\`@rankwise/${q}\``);
  const readme = [
    `# @rankwise/${p}`,
    '',
    DESCRIPTIONS[p],
    '',
    `Part of [rankwise](../../README.md). ${below.length ? `It builds on ${below.join(' and ')}; ` : 'It is the lowest layer; '}${above.join(' and ')} build on it, never the other way round (checked by \`test/architecture/package-layers.test.ts\`).`,
    'Most users import it through `@rankwise/core`, which re-exports the common names; import it directly to build on the pieces.',
    '',
    '## What is in it',
    '',
    ...CONTENTS[p].map((l) => `- ${l}`),
    '',
    '## Entry',
    '',
    '`src/index.ts` exports what the other rankwise packages use; its surface is recorded in `api/` at the repository root',
    '(`pnpm api:check`).',
    '',
  ];
  writeFileSync(`${dir}/README.md`, readme.join('\n'));
  git('add', `${dir}/package.json`, `${dir}/tsconfig.json`, `${dir}/README.md`);
}

// core: depends on the new packages, loses the dependencies only moved code used
const coreStill = bareImports(CORE_SRC);
const coreText = walk(CORE_SRC).map((f) => readFileSync(f, 'utf8')).join('\n');
for (const p of NEW) {
  for (const dep of Object.keys(depsOf[p])) {
    if (dep.startsWith('@rankwise/')) continue;
    if (!coreStill.has(dep) && !coreText.includes(`'${dep}`) && !coreText.includes(`"${dep}`)) delete corePkg.dependencies[dep];
  }
  corePkg.dependencies[`@rankwise/${p}`] = 'workspace:*';
}
corePkg.dependencies = sortKeys(corePkg.dependencies);
for (const dep of Object.keys(corePkg.dependencies)) {
  if (dep.startsWith('@rankwise/') && !coreStill.has(dep)) delete corePkg.dependencies[dep]; // e.g. gguf, now formats'
}
corePkg.description = 'LoRA fine-tuning for TensorFlow.js, core: contracts, the pipeline and its stages, training, tasks, backends, plugins. Re-exports the common names of @rankwise/models, @rankwise/lora and @rankwise/formats.';
writeFileSync('packages/core/package.json', json(corePkg));
const coreTsconfig = JSON.parse(readFileSync('packages/core/tsconfig.json', 'utf8'));
coreTsconfig.references = [...Object.keys(corePkg.dependencies).filter((d) => d.startsWith('@rankwise/')).map((d) => ({ path: `../${d.slice(10)}` }))];
writeFileSync('packages/core/tsconfig.json', json(coreTsconfig));

const build = JSON.parse(readFileSync('tsconfig.build.json', 'utf8'));
const at = build.references.findIndex((r) => r.path === 'packages/core');
build.references.splice(at, 0, ...NEW.map((p) => ({ path: `packages/${p}` })).filter((r) => !build.references.some((x) => x.path === r.path)));
writeFileSync('tsconfig.build.json', json(build));
for (const p of NEW) rootPkg.devDependencies[`@rankwise/${p}`] = 'workspace:*';
rootPkg.devDependencies = sortKeys(rootPkg.devDependencies);
writeFileSync('package.json', json(rootPkg));
// other workspace packages that imported core only for what moved keep importing it through core's re-exports.

// ---- 5. paths in docs and other text
const textFiles = git('ls-files').split('\n').filter((f) => /\.(md|json|mjs|cjs|js|py|sh|yaml|yml|ts)$/.test(f) && existsSync(f) && f !== 'scripts/split-core.mjs' && f !== 'scripts/split-core-map.mjs');
let docEdits = 0;
for (const f of textFiles) {
  const text = readFileSync(f, 'utf8');
  const next = text.replace(/packages\/core\/src\/((?:nn|lora|io)(?:\/[\w./-]*)?|random\.ts)/g, (whole) => {
    const to = moved(whole);
    return to === whole ? whole : to;
  });
  if (next !== text) {
    writeFileSync(f, next);
    docEdits++;
  }
}

// ---- 6. every relative specifier resolves
const broken = [];
for (const file of SCAN.flatMap(walk).map((f) => f.split(sep).join('/'))) {
  for (const s of specifiersOf(file, readFileSync(file, 'utf8'))) {
    if (!s.text.startsWith('.')) continue;
    const target = resolve(dirname(file), s.text);
    if (![target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), `${target}.ts`, join(target, 'index.ts')].some((t) => existsSync(t))) broken.push(`${file}: ${s.text}`);
  }
}
if (broken.length) fail(`unresolved relative imports after the split:\n  ${broken.join('\n  ')}`);

console.log(`split-core: moved ${MOVES.length} entries into ${NEW.map((p) => `@rankwise/${p}`).join(', ')}; rewrote ${[...edits.values()].reduce((n, l) => n + l.length, 0)} specifiers in ${edits.size} files (${crossings} now cross packages by name); ${docEdits} text files with paths updated.`);
for (const p of NEW) console.log(`  @rankwise/${p}: ${[...exportsNeeded[p].values()].reduce((n, m) => n + m.size, 0)} names exported, depends on ${Object.keys(depsOf[p]).join(', ') || 'nothing'}`);
console.log('next: pnpm install && pnpm typecheck');
