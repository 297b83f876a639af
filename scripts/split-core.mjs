#!/usr/bin/env node
// Splits @rankwise/core by concern into @rankwise/models, @rankwise/lora, @rankwise/formats and core proper
// (the map and the reasons are in scripts/split-core-map.mjs). Re-runnable on any main that has not been split yet:
//
//   git checkout main && node scripts/split-core.mjs && pnpm install && pnpm api:update && pnpm typecheck
//
// What it does, in order:
//   1. reads every TypeScript file of the repository (packages, plugins, test, bench, examples, scripts) and every
//      relative import / export / dynamic import / import type in it, resolved against the tree before the move;
//   2. `git mv`s the folders and files of the map;
//   3. rewrites each specifier: inside one package it stays relative (recomputed for the new places); from one of
//      the four packages into another it becomes the bare name (`@rankwise/models`), and the names imported that
//      way are what the lower package's generated `src/index.ts` exports (so each new entry exports exactly what
//      the other packages use, nothing more); from tests, bench and examples it stays a relative path, recomputed;
//      a file listed in LIGHT_SUBPATHS is reached through its own tfjs-free subpath (`@rankwise/models/description`);
//   3b. curates the public API (issue 24, item 7): core's root keeps its group comments, its core-proper names
//      (values nothing imports are dropped, but KEEP; types are kept) and the ROOT_REEXPORTS of the lower packages; the names of
//      train/, tasks/, generation/ go to `@rankwise/core/training`, of run/, progress/ to `@rankwise/core/runs`;
//      `@rankwise/core/internal` keeps what is imported; every `import { … } from '@rankwise/core'` in packages,
//      tests, bench, examples and Markdown code blocks is split by where its names now live, and the workspace
//      packages that now import a split package get it as a dependency and a project reference;
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
  models:
    'Model modules for rankwise on TensorFlow.js: Module, Linear, Embedding, attention, RMSNorm, rotary, KV cache, the llama-style architectures and model families (llama, gemma, phi3), GPT, Keras layer models, sites and seeded random streams.',
  lora: 'LoRA for rankwise models: LoRA layers (linear, embedding, conv2d), DoRA, init (gaussian, PiSSA, OLoRA), inject, merge, combine, freeze, parameter reports.',
  formats:
    'File formats for rankwise: safetensors, PEFT adapter files and configs, Hugging Face model folders, TensorFlow.js models, GGUF models and adapters, checkpoints and atomic writes.',
};
const CONTENTS = {
  models: [
    '`module.ts`: `Module`, named children and `tf.Variable` parameters',
    '`linear.ts`, `embedding.ts`, `conv2d.ts`, `layer-norm.ts`, `rmsnorm.ts`, `mlp.ts`, `attention.ts`, `rotary.ts`, `rope-scaling.ts`, `kv-cache.ts`: the building blocks',
    '`llama.ts`, `families/`: the llama-style decoder and the families that switch its parts (`config.json` `model_type`)',
    '`gpt.ts`, `sequential.ts`, `layers-model.ts`, `keras-topology.ts`: the other architectures',
    '`site.ts`, `embedding-site.ts`, `description.ts`: what a placement sees',
    '`random.ts`: seeded random streams',
  ],
  lora: [
    '`lora-layer.ts`, `lora-linear.ts`, `lora-embedding.ts`, `lora-conv2d.ts`: the adapted layers',
    '`dora.ts`, `init.ts`: DoRA and the initialisations',
    '`inject.ts`, `merge.ts`, `freeze.ts`: putting adapters in, folding them out',
    '`adapters.ts`, `combine.ts`, `combine-rules.ts`, `weighted-adapter.ts`: several adapters at once',
  ],
  formats: [
    '`safetensors.ts`, `safetensors-stream.ts`, `tensor-file.ts`: safetensors',
    '`peft-adapter.ts`, `peft-config.ts`, `peft-layout.ts`, `adapter-*.ts`: PEFT adapter folders',
    '`huggingface.ts`, `huggingface-check.ts`: Hugging Face model folders',
    '`tfjs-model.ts`, `tfjs-save.ts`: TensorFlow.js models',
    '`gguf-llama.ts`, `gguf-adapter.ts`: GGUF (over `@rankwise/gguf`)',
    '`checkpoint.ts`, `atomic-write.ts`, `json-text.ts`, `fs-errors.ts`: checkpoints and safe writes',
  ],
};

// ---- the public API of @rankwise/core after the split (issue 24, item 7)
/** Names of the lower packages core's root keeps re-exporting: what building and adapting a model from code needs first. */
const ROOT_REEXPORTS = new Set(
  [
    // @rankwise/models
    'Module',
    'Linear',
    'Embedding',
    'Mlp',
    'Gpt',
    'Llama',
    'createModel',
    'architectureNames',
    'listSites',
    'Rng',
    'type LinearOptions',
    'type MlpConfig',
    'type GptConfig',
    'type LlamaConfig',
    // @rankwise/lora
    'injectLora',
    'mergeAndUnload',
    'freeze',
    'setAdapter',
    'withAdapter',
    'addWeightedAdapter',
    'parameterReport',
    'loraScaling',
    'type LoraOptions',
    'type ParameterReport',
    // @rankwise/formats
    'saveAdapter',
    'loadAdapter',
    'loadHuggingFaceModel',
    'saveHuggingFaceModel',
    'loadTfjsModel',
    'saveTfjsModel',
    'saveCheckpoint',
    'loadCheckpoint',
    'loadGgufModel',
    'saveGgufModel',
    'readSafetensorsFile',
    'writeSafetensorsFile',
  ].map((n) => n.replace(/^type /, '')),
);
/**
 * Files of the lower packages that core reaches through their own subpath, not the package's index: the index loads
 * TensorFlow.js, and `@rankwise/core/plugin` must not (test/architecture/import-graph.test.ts). Each must stay tfjs-free.
 */
const LIGHT_SUBPATHS = { models: ['description', 'types/json', 'types/site', 'types/tensors', 'types/backend'] };
/** Folders of core proper whose root exports move to a named subpath of @rankwise/core. */
const SUBPATHS = { train: 'training', tasks: 'training', generation: 'training', run: 'runs', progress: 'runs' };
const SUBPATH_DOCS = {
  training: 'the training and generation building blocks: losses, optimizers, the train loop and step, tasks, token generation',
  runs: 'run folders, locks, resume and progress lines: what the CLI, the grid and observers share',
};
/**
 * Values kept although nothing in the repository imports them: the documented surface of pipelines and stages (root),
 * and the extension points and building blocks of code that builds its own models or tasks (in their package/subpath).
 */
const KEEP = new Set([
  'Session',
  'STAGE_NAMES',
  'BUILTIN_STAGES',
  'pipelineSchema',
  'PLUGIN_KEYWORD',
  'registerArchitecture',
  'getArchitecture',
  'countParameters',
  'RmsNorm',
  'Dropout',
  'languageModelTask',
  'accuracy',
  'clipByGlobalNorm',
  'learningRateAt',
]);

/** `head { a, b } tail` on one line when it fits in 120 characters, else the names on indented lines. */
function wrapStatement(head, elements, tail) {
  const one = `${head} ${elements.join(', ')} ${tail}`;
  if (one.length <= 120) return one;
  const lines = [];
  let line = '';
  for (const el of elements) {
    const next = line ? `${line} ${el},` : `  ${el},`;
    if (next.length > 118 && line) {
      lines.push(line);
      line = `  ${el},`;
    } else line = next;
  }
  if (line) lines.push(line);
  return [head, ...lines, tail].join('\n');
}

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
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
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
/** name re-exported by core's root from a moved file → { pkg, key (file in pkg's src, no extension), type } */
const rootOrigins = new Map();
let crossings = 0;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const newFile = moved(file);
  const list = [];
  for (const s of specifiersOf(file, text)) {
    if (!s.text.startsWith('.')) continue;
    const target = relative(ROOT, resolve(dirname(file), s.text))
      .split(sep)
      .join('/');
    const newTarget = moved(target);
    if (newFile === file && newTarget === target) continue;
    const from = layerOf(newFile);
    const to = layerOf(newTarget);
    let replacement;
    if (from && to && from !== to) {
      if (LAYERS.indexOf(to) > LAYERS.indexOf(from)) fail(`${file} imports ${s.text}: ${from} → ${to} points upward (fix the dependency first)`);
      if (!s.names) fail(`${file}: a ${s.kind} import of ${s.text} crosses from @rankwise/${from} to @rankwise/${to}; make it a named import first`);
      const key = newTarget.slice(`packages/${to}/src/`.length).replace(/\.(js|ts)$/, '');
      if (file === `${CORE_SRC}/index.ts`) {
        // core's root re-exports: step 3b decides which stay (ROOT_REEXPORTS) and which consumers import from below
        for (const { name, type } of s.names) rootOrigins.set(name, { pkg: to, key, type });
        replacement = `@rankwise/${to}`;
        list.push({ start: s.start, end: s.end, replacement });
        continue;
      }
      if (LIGHT_SUBPATHS[to]?.includes(key)) {
        replacement = `@rankwise/${to}/${key}`;
        list.push({ start: s.start, end: s.end, replacement });
        crossings++;
        continue;
      }
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

// ---- 3b. core's root: grouped and small; the rest in the lower packages or named subpaths; unused names dropped
const INDEX = `${CORE_SRC}/index.ts`;
/** exported name → { home: 'root' | '@rankwise/<pkg>' | '@rankwise/core/<sub>' | null (dropped), value } */
const homes = new Map();
{
  // who imports what from '@rankwise/core' (TypeScript everywhere, and import lines in Markdown code blocks)
  const used = new Set();
  const consumerFiles = SCAN.flatMap(walk)
    .map((f) => f.split(sep).join('/'))
    .filter((f) => !f.startsWith(`${CORE_SRC}/`));
  const markdown = git('ls-files', '*.md')
    .split('\n')
    .filter((f) => f && existsSync(f));
  const MD_IMPORT = /(import|export)\s+(type\s+)?\{([^}]*)\}\s+from\s+(['"])@rankwise\/core\4(;?)/g;
  const bareName = (el) =>
    el
      .trim()
      .replace(/^type\s+/, '')
      .split(/\s+as\s+/)[0]
      .trim();
  for (const f of consumerFiles) {
    for (const st of ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true).statements) {
      const spec =
        (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)
          ? st.moduleSpecifier.text
          : '';
      if (spec !== '@rankwise/core') continue;
      const named = ts.isImportDeclaration(st) ? st.importClause?.namedBindings : st.exportClause;
      if (named && (ts.isNamedImports(named) || ts.isNamedExports(named))) for (const e of named.elements) used.add((e.propertyName ?? e.name).text);
    }
  }
  for (const f of markdown)
    for (const m of readFileSync(f, 'utf8').matchAll(MD_IMPORT)) for (const el of m[3].split(',')) if (bareName(el)) used.add(bareName(el));

  // where each name of the root goes
  const text = readFileSync(INDEX, 'utf8');
  const source = ts.createSourceFile(INDEX, text, ts.ScriptTarget.ES2022, true);
  const subpathLines = Object.fromEntries(Object.keys(SUBPATH_DOCS).map((k) => [k, []]));
  const reexports = Object.fromEntries(NEW.map((p) => [p, []]));
  const cuts = [];
  for (const st of source.statements) {
    if (!ts.isExportDeclaration(st) || !st.moduleSpecifier || !st.exportClause || !ts.isNamedExports(st.exportClause)) continue;
    const spec = st.moduleSpecifier.text;
    const keep = [];
    for (const e of st.exportClause.elements) {
      const name = e.name.text;
      const type = st.isTypeOnly || e.isTypeOnly;
      const el = e.getText(source).replace(/^type\s+/, '');
      let home;
      if (spec.startsWith('@rankwise/')) {
        const pkg = spec.slice('@rankwise/'.length);
        const origin = rootOrigins.get((e.propertyName ?? e.name).text);
        if (ROOT_REEXPORTS.has(name)) home = 'root';
        else home = used.has(name) || type || KEEP.has(name) ? spec : null; // types stay reachable: they name the options of what is kept
        if (!origin) fail(`${INDEX}: ${name} from ${spec} was not seen before the move`);
        if (home) {
          if (!exportsNeeded[pkg].has(origin.key)) exportsNeeded[pkg].set(origin.key, new Map());
          const table = exportsNeeded[pkg].get(origin.key);
          const original = (e.propertyName ?? e.name).text;
          table.set(original, (table.get(original) ?? true) && type);
        }
        if (home === 'root') reexports[pkg].push(type ? `type ${el}` : el);
      } else {
        const sub = SUBPATHS[spec.split('/')[1]];
        if (sub) {
          home = used.has(name) || type || KEEP.has(name) ? `@rankwise/core/${sub}` : null;
          if (home) subpathLines[sub].push({ spec, el: type ? `type ${el}` : el });
        } else {
          home = type || used.has(name) || KEEP.has(name) ? 'root' : null;
          if (home) keep.push(type && !st.isTypeOnly ? `type ${el}` : el);
        }
      }
      homes.set(name, { home, type });
    }
    const replacement =
      keep.length && !spec.startsWith('@rankwise/') ? wrapStatement(`export ${st.isTypeOnly ? 'type ' : ''}{`, keep, `} from '${spec}';`) : '';
    const end = st.getEnd() + (replacement === '' && text[st.getEnd()] === '\n' ? 1 : 0); // a dropped statement takes its line
    cuts.push({ start: st.getStart(source), end, replacement });
  }
  let next = text;
  for (const c of cuts.sort((a, b) => b.start - a.start)) next = next.slice(0, c.start) + c.replacement + next.slice(c.end);
  // drop the blank lines the cuts left and the group comments left with no export under them
  const lines = next.split('\n').filter((l, i, all) => !(l === '' && all[i - 1] === ''));
  const kept = lines.filter((l, i) => {
    if (!/^\s*\/\/ ----/.test(l)) return true;
    for (let j = i + 1; j < lines.length; j++) {
      if (/^\s*\/\/ ----/.test(lines[j]) || lines[j] === '') return false;
      if (/^export /.test(lines[j])) return true;
    }
    return false;
  });
  const tail = [
    '',
    '// ---- models, LoRA and file formats: the names most code needs; everything else is in @rankwise/models, @rankwise/lora',
    '// and @rankwise/formats ----',
    ...NEW.filter((p) => reexports[p].length).map((p) => wrapStatement('export {', reexports[p], `} from '@rankwise/${p}';`)),
    '',
    `// ---- subpaths: ${Object.keys(SUBPATH_DOCS)
      .map((k) => `@rankwise/core/${k}`)
      .join(', ')} (see their files), @rankwise/core/plugin, @rankwise/core/internal ----`,
    '',
  ];
  writeFileSync(
    INDEX,
    `${kept
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/\n+$/, '\n')}${tail.join('\n')}`,
  );
  for (const [sub, entries] of Object.entries(subpathLines)) {
    const bySpec = new Map();
    for (const { spec, el } of entries) bySpec.set(spec, [...(bySpec.get(spec) ?? []), el]);
    const body = [...bySpec].map(([spec, els]) => wrapStatement('export {', els, `} from '${spec}';`));
    writeFileSync(`${CORE_SRC}/${sub}.ts`, `/** \`@rankwise/core/${sub}\`: ${SUBPATH_DOCS[sub]}. */\n${body.join('\n')}\n`);
    git('add', `${CORE_SRC}/${sub}.ts`);
    corePkg.exports[`./${sub}`] = { source: `./src/${sub}.ts`, types: `./dist/${sub}.d.ts`, default: `./dist/${sub}.js` };
  }
  const { './schema/*': schemaExport, ...rest } = corePkg.exports;
  corePkg.exports = { ...rest, ...(schemaExport ? { './schema/*': schemaExport } : {}) }; // written with the rest in 4b

  // consumers: each import from '@rankwise/core' split by where its names live now
  const split = (elements, lead, typeOnly) => {
    const groups = new Map();
    for (const el of elements) {
      const name = bareName(el);
      if (!name) continue;
      const home = homes.get(name)?.home ?? 'root';
      const spec = home === 'root' || home === null ? '@rankwise/core' : home;
      groups.set(spec, [...(groups.get(spec) ?? []), el.trim()]);
    }
    return [...groups]
      .sort(([a], [b]) => (a === '@rankwise/core' ? -1 : b === '@rankwise/core' ? 1 : a.localeCompare(b)))
      .map(([spec, els]) => wrapStatement(`${lead} ${typeOnly ? 'type ' : ''}{`, els, `} from '${spec}';`));
  };
  for (const f of consumerFiles) {
    const text = readFileSync(f, 'utf8');
    const source = ts.createSourceFile(f, text, ts.ScriptTarget.ES2022, true);
    const cuts = [];
    for (const st of source.statements) {
      const spec =
        (ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) && st.moduleSpecifier && ts.isStringLiteral(st.moduleSpecifier)
          ? st.moduleSpecifier.text
          : '';
      if (spec !== '@rankwise/core') continue;
      const isImport = ts.isImportDeclaration(st);
      const named = isImport ? st.importClause?.namedBindings : st.exportClause;
      if (!named || !(ts.isNamedImports(named) || ts.isNamedExports(named)) || (isImport && st.importClause.name)) continue;
      const elements = named.elements.map((e) => e.getText(source));
      if (elements.every((el) => (homes.get(bareName(el))?.home ?? 'root') === 'root')) continue;
      const typeOnly = isImport ? st.importClause.isTypeOnly : st.isTypeOnly;
      cuts.push({ start: st.getStart(source), end: st.getEnd(), replacement: split(elements, isImport ? 'import' : 'export', typeOnly).join('\n') });
    }
    if (!cuts.length) continue;
    let next = text;
    for (const c of cuts.sort((a, b) => b.start - a.start)) next = next.slice(0, c.start) + c.replacement + next.slice(c.end);
    writeFileSync(f, next);
  }
  for (const f of markdown) {
    const text = readFileSync(f, 'utf8');
    const next = text.replace(MD_IMPORT, (whole, lead, typeKw, list) => {
      const elements = list.split(',').filter((el) => el.trim());
      if (elements.every((el) => (homes.get(bareName(el))?.home ?? 'root') === 'root')) return whole;
      return split(elements, lead, !!typeKw).join('\n');
    });
    if (next !== text) writeFileSync(f, next);
  }
  // @rankwise/core/internal: only what rankwise's own packages and tests import from it
  {
    const file = `${CORE_SRC}/internal.ts`;
    const usedInternal = new Set();
    for (const f of consumerFiles) {
      for (const st of ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.ES2022, true).statements) {
        if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier) || st.moduleSpecifier.text !== '@rankwise/core/internal') continue;
        const named = st.importClause?.namedBindings;
        if (named && ts.isNamedImports(named)) for (const e of named.elements) usedInternal.add((e.propertyName ?? e.name).text);
        else fail(`${f}: import from @rankwise/core/internal without named imports`);
      }
    }
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
    const cuts = [];
    for (const st of source.statements) {
      if (!ts.isExportDeclaration(st) || !st.exportClause || !ts.isNamedExports(st.exportClause) || !st.moduleSpecifier) continue;
      const keep = st.exportClause.elements.filter((e) => usedInternal.has(e.name.text)).map((e) => e.getText(source));
      const replacement = keep.length ? wrapStatement(`export ${st.isTypeOnly ? 'type ' : ''}{`, keep, `} from '${st.moduleSpecifier.text}';`) : '';
      cuts.push({ start: st.getStart(source), end: st.getEnd() + (replacement === '' && text[st.getEnd()] === '\n' ? 1 : 0), replacement });
    }
    let next = text;
    for (const c of cuts.sort((a, b) => b.start - a.start)) next = next.slice(0, c.start) + c.replacement + next.slice(c.end);
    writeFileSync(file, next.replace(/\/\/[^\n]*\n(?=\/\/|$)/g, ''));
  }

  // other workspace packages now importing a split package depend on it
  for (const group of ['packages', 'plugins']) {
    for (const dir of readdirSync(group)) {
      const manifest = `${group}/${dir}/package.json`;
      if (!existsSync(manifest) || LAYERS.includes(dir)) continue;
      const imported = [...bareImports(`${group}/${dir}/src`)].filter((d) => NEW.some((p) => d === `@rankwise/${p}`));
      if (!imported.length) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      for (const d of imported) pkg.dependencies = sortKeys({ ...pkg.dependencies, [d]: 'workspace:*' });
      writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
      const tsconfigPath = `${group}/${dir}/tsconfig.json`;
      if (existsSync(tsconfigPath)) {
        const tsconfig = JSON.parse(readFileSync(tsconfigPath, 'utf8'));
        const refs = tsconfig.references ?? [];
        for (const d of imported) {
          const path = `../../packages/${d.slice('@rankwise/'.length)}`;
          if (!refs.some((r) => r.path.replace(/\/$/, '').endsWith(`/${d.slice('@rankwise/'.length)}`)))
            refs.push({ path: group === 'packages' ? `../${d.slice('@rankwise/'.length)}` : path });
        }
        tsconfig.references = refs;
        writeFileSync(tsconfigPath, `${JSON.stringify(tsconfig, null, 2)}\n`);
      }
    }
  }
}

// ---- 4b. the new packages' files
for (const p of NEW) {
  const dir = `packages/${p}`;
  // src/index.ts: what the other packages import, grouped by file
  if (existsSync(`${dir}/src/index.ts`)) fail(`${dir}/src/index.ts exists already`);
  const lines = [
    `/**\n * \`@rankwise/${p}\`: ${DESCRIPTIONS[p]}\n * Generated by scripts/split-core.mjs from what the other packages import; edit freely afterwards.\n */`,
  ];
  // a name imported through two files (one re-exports the other) is exported once, from the file that declares it
  const declares = (key, name) =>
    new RegExp(`export\\s+(?:declare\\s+)?(?:abstract\\s+)?(?:async\\s+)?(?:function\\*?|class|const|let|var|type|interface|enum)\\s+${name}\\b`).test(
      readFileSync(`${dir}/src/${key}.ts`, 'utf8'),
    );
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
    lines.push(wrapStatement('export {', list, `} from './${key}.js';`));
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
    exports: {
      '.': { source: './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
      ...Object.fromEntries(
        (LIGHT_SUBPATHS[p] ?? []).map((k) => [`./${k}`, { source: `./src/${k}.ts`, types: `./dist/${k}.d.ts`, default: `./dist/${k}.js` }]),
      ),
    },
    files: ['dist'],
    engines: { node: '>=20' },
    dependencies: depsOf[p],
  };
  writeFileSync(`${dir}/package.json`, json(pkg));
  const references = Object.keys(depsOf[p])
    .filter((d) => d.startsWith('@rankwise/'))
    .map((d) => ({ path: `../${d.slice('@rankwise/'.length)}` }));
  writeFileSync(
    `${dir}/tsconfig.json`,
    json({ extends: '../../tsconfig.base.json', compilerOptions: { composite: true, rootDir: 'src', outDir: 'dist' }, include: ['src'], references }),
  );
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

// core's README, unless one exists already (the docs work may have written it)
if (!existsSync('packages/core/README.md')) {
  writeFileSync(
    'packages/core/README.md',
    [
      '# @rankwise/core',
      '',
      'rankwise proper: the contracts (stages, placements, datasets), the pipeline (validation, the runner, sessions),',
      'the built-in stages, training, tasks, generation, backend selection and plugin discovery. It builds on',
      '`@rankwise/models`, `@rankwise/lora` and `@rankwise/formats` and re-exports their most used names.',
      '',
      '## Entries',
      '',
      '- `@rankwise/core`: pipelines, the schema, stages and plugins, backends, and the common model / LoRA / file names.',
      ...Object.entries(SUBPATH_DOCS).map(([k, v]) => `- \`@rankwise/core/${k}\`: ${v}.`),
      '- `@rankwise/core/plugin`: the plugin API (no TensorFlow.js at run time).',
      "- `@rankwise/core/internal`: what rankwise's own packages and tests use; no compatibility promise.",
      '',
      "Each entry's surface is recorded in `api/` at the repository root (`pnpm api:check`); see",
      '[docs/packages.md](../../docs/packages.md) for the layering.',
      '',
    ].join('\n'),
  );
  git('add', 'packages/core/README.md');
}

// core: depends on the new packages, loses the dependencies only moved code used
const coreStill = bareImports(CORE_SRC);
const coreText = walk(CORE_SRC)
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');
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
corePkg.description =
  'LoRA fine-tuning for TensorFlow.js, core: contracts, the pipeline and its stages, training, tasks, backends, plugins. Re-exports the common names of @rankwise/models, @rankwise/lora and @rankwise/formats.';
writeFileSync('packages/core/package.json', json(corePkg));
const coreTsconfig = JSON.parse(readFileSync('packages/core/tsconfig.json', 'utf8'));
coreTsconfig.references = [
  ...Object.keys(corePkg.dependencies)
    .filter((d) => d.startsWith('@rankwise/'))
    .map((d) => ({ path: `../${d.slice(10)}` })),
];
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
const textFiles = git('ls-files')
  .split('\n')
  .filter((f) => /\.(md|json|mjs|cjs|js|py|sh|yaml|yml|ts)$/.test(f) && existsSync(f) && f !== 'scripts/split-core.mjs' && f !== 'scripts/split-core-map.mjs');
let docEdits = 0;
for (const f of textFiles) {
  const text = readFileSync(f, 'utf8');
  const next = text.replace(/packages\/core\/src\/((?:nn|lora|io)(?:\/[\w./-]*)?|random\.ts)/g, (whole) => {
    const to = moved(whole);
    return to === whole ? whole : whole.endsWith('/') && !to.endsWith('/') ? `${to}/` : to;
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
    if (![target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), `${target}.ts`, join(target, 'index.ts')].some((t) => existsSync(t)))
      broken.push(`${file}: ${s.text}`);
  }
}
if (broken.length) fail(`unresolved relative imports after the split:\n  ${broken.join('\n  ')}`);

console.log(
  `split-core: moved ${MOVES.length} entries into ${NEW.map((p) => `@rankwise/${p}`).join(', ')}; rewrote ${[...edits.values()].reduce((n, l) => n + l.length, 0)} specifiers in ${edits.size} files (${crossings} now cross packages by name); ${docEdits} text files with paths updated.`,
);
for (const p of NEW)
  console.log(
    `  @rankwise/${p}: ${[...exportsNeeded[p].values()].reduce((n, m) => n + m.size, 0)} names exported, depends on ${Object.keys(depsOf[p]).join(', ') || 'nothing'}`,
  );
console.log('next: pnpm install && pnpm api:update && pnpm typecheck');
