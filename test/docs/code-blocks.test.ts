import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import fg from 'fast-glob';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { main } from '@rankwise/cli';
import { type CodeBlock, codeBlocks, documentationFiles, headingAnchors, jsonValues, prose, shellCommands } from './markdown.js';

// Every code block of the README, docs/*.md and the package READMEs is checked here, by its language:
//   sh    each `rankwise` command exists with every --option it uses; `pnpm <script>` is a script of this
//         repository; `node <file>` and every repository path (pipelines/…, examples/…) exist.
//   json  parses (one value, JSON lines, or a `"key": value` fragment); pipelines, stages, data, grid and variant
//         objects validate against packages/core/schema/pipeline.schema.json; a package.json carries the keyword.
//   ts/js the blocks are compiled together by TypeScript (strict, this repository's tsconfig): complete programs must
//         type-check; ```ts fragment blocks (a few lines of a bigger program) must parse, and their imports resolve
//         to exports that exist.
//   none/text  output, not code: no command may hide there (a line starting with `$ ` is checked as sh).
// Some blocks are also run or compared exactly elsewhere: test/readme.test.ts (the first two commands),
// test/readme-from-code.test.ts (docs/from-code.md runs), test/readme-plugins.test.ts (docs/plugins.md = fixtures).

const files = documentationFiles();
const blocks = files.flatMap((file) => codeBlocks(file));
const where = (b: CodeBlock) => `${b.file}:${b.line}`;

test('the documentation is the README, the guides in docs/ and a README in every package', () => {
  for (const pkg of fg.sync(['packages/*/package.json', 'plugins/*/package.json'])) expect(files).toContain(join(dirname(pkg), 'README.md'));
  expect(files.filter((f) => f.startsWith('docs/')).length).toBeGreaterThanOrEqual(15);
  expect(readFileSync('README.md', 'utf8').split('\n').length).toBeLessThanOrEqual(260);
  const readme = readFileSync('README.md', 'utf8');
  for (const guide of files.filter((f) => f.startsWith('docs/')))
    expect(readme, `README links ${guide}`).toMatch(new RegExp(`\\]\\((\\./)?${guide.replace('.', '\\.')}(#[^)]*)?\\)`));
});

test("anchors are GitHub's", () => {
  expect(headingAnchors('# A b\n## Rotated digits: ranks × variants (`x/y.json`)\n## A b\n```\n# not a heading\n```\n')).toEqual(
    new Set(['a-b', 'rotated-digits-ranks--variants-xyjson', 'a-b-1']),
  );
});

test('every relative link and image resolves, anchors included', () => {
  const broken: string[] = [];
  for (const file of files) {
    const text = prose(readFileSync(file, 'utf8'));
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [path, anchor] = target.split('#');
      const resolved = path === '' ? file : join(dirname(file), decodeURIComponent(path));
      if (!existsSync(resolved)) broken.push(`${file}: ${target} (no ${resolved})`);
      else if (anchor && resolved.endsWith('.md') && !headingAnchors(readFileSync(resolved, 'utf8')).has(anchor))
        broken.push(`${file}: ${target} (no heading #${anchor})`);
    }
  }
  expect(broken).toEqual([]);
});

test('every fenced block has a language the checks below know, and no command sits outside sh', () => {
  const known = new Set(['sh', 'json', 'ts', 'js', 'text', '']);
  const problems: string[] = [];
  for (const b of blocks) {
    if (!known.has(b.language)) problems.push(`${where(b)}: language "${b.language}"`);
    if ((b.language === '' || b.language === 'text') && /^(pnpm|npx|node|npm) /m.test(b.text))
      problems.push(`${where(b)}: a command in a block without a language: make it \`\`\`sh`);
    if (b.language === 'json' && /^(pnpm|npx|node|npm) /m.test(b.text)) problems.push(`${where(b)}: a command in a json block`);
  }
  // indented code blocks with commands are invisible to these checks
  for (const file of files) {
    for (const m of prose(readFileSync(file, 'utf8')).matchAll(/\n\n {4}((?:pnpm|npx|node|npm) .*)/g))
      problems.push(`${file}: indented command "${m[1].slice(0, 40)}…": use a \`\`\`sh fence`);
  }
  expect(problems).toEqual([]);
});

// --- sh -----------------------------------------------------------------------------------------------------------

const helps = new Map<string, string>();
let stdout: string[] = [];
beforeAll(() => {
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterAll(() => vi.restoreAllMocks());

async function help(path: readonly string[]): Promise<string> {
  const key = path.join(' ');
  const cached = helps.get(key);
  if (cached !== undefined) return cached;
  stdout = [];
  const code = await main([...path, '--help']);
  const text = stdout.join('');
  helps.set(key, code === 0 ? text : '');
  return helps.get(key) ?? '';
}

const section = (helpText: string, title: string) => (helpText.split(`\n${title}:\n`)[1] ?? '').split(/\n\w[^\n]*:\n/)[0];
const subcommands = (helpText: string) => [...section(helpText, 'Commands').matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
const optionNames = (helpText: string) => [...section(helpText, 'Options').matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);

const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts);
const PNPM_BUILTINS = new Set(['install', 'add', 'rebuild', 'exec', 'dlx', 'run', 'i', 'approve-builds']);
const REPO_PATH = /^(pipelines|examples|bench|scripts|test|packages|plugins|docs)\//;

/** Problems with one shell command; `cwdIsRepo` is false after a `cd` elsewhere. */
async function checkCommand(words: string[], cwdIsRepo: boolean): Promise<string[]> {
  const start = words.findIndex((x) => !/^[A-Z_][A-Z0-9_]*=/.test(x)); // after VAR=value assignments
  const w = start < 0 ? [] : words.slice(start);
  const problems: string[] = [];
  const head = w.join(' ');
  let rest: string[] | undefined;
  if (head.startsWith('pnpm rankwise ') || head.startsWith('npx rankwise ')) rest = w.slice(2);
  else if (head.startsWith('npx -y pnpm@12.4.2 rankwise ')) rest = w.slice(4);
  else if (head.startsWith('pnpm run pipeline ')) rest = w.slice(3);
  if (rest) {
    const path: string[] = [];
    let helpText = await help([]);
    while (rest.length > 0 && !rest[0].startsWith('-') && subcommands(helpText).length > 0) {
      if (!subcommands(helpText).includes(rest[0])) {
        problems.push(`rankwise ${[...path, rest[0]].join(' ')}: no such command (known: ${subcommands(helpText).join(', ')})`);
        return problems;
      }
      path.push(rest.shift() as string);
      helpText = await help(path);
    }
    const options = new Set([...optionNames(helpText), '--help']);
    for (const word of rest.filter((x) => x.startsWith('--'))) {
      const name = word.split('=')[0];
      if (!options.has(name)) problems.push(`rankwise ${path.join(' ')}: unknown option ${name} (known: ${[...options].join(' ')})`);
    }
  } else {
    const pnpm = w[0] === 'pnpm' ? w.slice(1) : head.startsWith('npx -y pnpm@12.4.2 ') ? w.slice(3) : undefined;
    if (pnpm && pnpm.length > 0 && !pnpm[0].startsWith('-')) {
      const script = pnpm[0] === 'run' ? pnpm[1] : pnpm[0];
      const bin = pnpm[0] !== 'run' && existsSync(`node_modules/.bin/${script}`); // pnpm runs a dependency's binary too
      if ((pnpm[0] === 'run' || !PNPM_BUILTINS.has(script)) && !scripts.includes(script) && !bin) problems.push(`pnpm ${script}: not a script of package.json`);
    }
    if (w[0] === 'node') {
      const file = w.slice(1).find((x, i, all) => !x.startsWith('-') && all[i - 1] !== '--import');
      if (file && cwdIsRepo && !existsSync(file)) problems.push(`node ${file}: no such file`);
    }
  }
  if (cwdIsRepo) {
    for (const word of w.slice(1)) {
      const value = word.includes('=') && word.startsWith('--') ? word.slice(word.indexOf('=') + 1) : word;
      if (!REPO_PATH.test(value) || value.includes('<')) continue;
      if (/[*?{]/.test(value) ? fg.sync(value).length === 0 : !existsSync(value)) problems.push(`${value}: no such file in the repository`);
    }
  }
  return problems;
}

async function checkShell(text: string): Promise<string[]> {
  const problems: string[] = [];
  let cwdIsRepo = true;
  for (const words of shellCommands(text)) {
    if (words[0] === 'cd') {
      cwdIsRepo = false;
      continue;
    }
    problems.push(...(await checkCommand(words, cwdIsRepo)).map((p) => `${words.join(' ').slice(0, 60)}: ${p}`));
  }
  return problems;
}

describe('sh blocks', () => {
  test('the command checker catches what it should', async () => {
    expect(await checkShell('pnpm rankwise run pipelines/digits-lora.json --seed 3')).toEqual([]);
    expect(await checkShell('pnpm rankwise runn x.json')).toHaveLength(1);
    expect(await checkShell('pnpm rankwise run pipelines/digits-lora.json --sed 3')).toHaveLength(1);
    expect(await checkShell('pnpm rankwise run pipelines/nope.json # a comment --x')).toHaveLength(1);
    expect(await checkShell('pnpm rankwise store prunes --store /x')).toHaveLength(1);
    expect(await checkShell('cd ~/p && npx rankwise run pipelines/nope.json')).toEqual([]);
    expect(await checkShell('pnpm nope-script')).toHaveLength(1);
    expect(await checkShell('node --conditions=source --import tsx bench/nope.ts')).not.toEqual([]);
  });

  test('every command in a sh block (and every `$ ` line of a text block) exists, with its options and files', async () => {
    const problems: string[] = [];
    for (const b of blocks) {
      const text =
        b.language === 'sh'
          ? b.text
          : b.language === 'text' || b.language === ''
            ? b.text
                .split('\n')
                .filter((l) => l.startsWith('$ '))
                .map((l) => l.slice(2))
                .join('\n')
            : '';
      for (const p of await checkShell(text)) problems.push(`${where(b)}: ${p}`);
    }
    expect(problems).toEqual([]);
  });
});

// --- json ---------------------------------------------------------------------------------------------------------

describe('json blocks', () => {
  const schema = JSON.parse(readFileSync('packages/core/schema/pipeline.schema.json', 'utf8')) as { $id?: string };
  // core's own ajv (a dependency of core, not of the repository root)
  type Validate = ((value: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };
  type Ajv = { addSchema(schema: object, key: string): unknown; getSchema(ref: string): Validate | undefined };
  const { Ajv2020 } = createRequire(resolve('packages/core/package.json'))('ajv/dist/2020.js') as { Ajv2020: new (options: object) => Ajv };
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addSchema(schema, 'pipeline');
  const check = (ref: string, value: unknown) => {
    const validate = ajv.getSchema(`pipeline${ref}`);
    if (!validate) throw new Error(`no ${ref} in the pipeline schema`);
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${ref}${e.instancePath}: ${e.message}`);
  };

  /** What kind of object a block holds, and its problems. */
  function checkValue(value: unknown): string[] {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
    const o = value as Record<string, unknown>;
    if ('stages' in o) return check('', o);
    if ('stage' in o) return check('#/$defs/stage', o);
    if ('dataset' in o) return check('#/$defs/data', o);
    if ('grid' in o) return check('#/$defs/grid', o.grid);
    if ('variant' in o) return check('#/$defs/grid/properties/variant', o.variant);
    if ('name' in o && 'version' in o)
      return (o.keywords as string[] | undefined)?.includes('rankwise-plugin') ? [] : ['a package.json without the keyword rankwise-plugin'];
    return [];
  }

  test('the checker refuses a wrong stage, data spec and grid', () => {
    expect(checkValue({ stage: 'inject', r: 'four' })).not.toEqual([]);
    expect(checkValue({ stage: 'train', data: { dataset: 'digits', split: 'sideways' } })).not.toEqual([]);
    expect(checkValue(jsonValues('"grid": { "rank": [0] }')[0])).not.toEqual([]);
    expect(checkValue({ stage: 'inject', r: 4, placement: { plugin: 'pattern', options: { target: 'all-linear' } } })).toEqual([]);
  });

  test('every json block parses, and what is a pipeline, stage, data spec or grid validates against the schema', () => {
    const problems: string[] = [];
    for (const b of blocks.filter((x) => x.language === 'json')) {
      let values: unknown[];
      try {
        values = jsonValues(b.text);
      } catch (error) {
        problems.push(`${where(b)}: ${(error as Error).message}`);
        continue;
      }
      for (const value of values) problems.push(...checkValue(value).map((p) => `${where(b)}: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  test("the README's pipeline is the main job's file, as it is", () => {
    const readmeJson = blocks.filter((b) => b.file === 'README.md' && b.language === 'json' && b.text.includes('"stages"'));
    for (const b of readmeJson) {
      const name = (JSON.parse(b.text) as { name: string }).name;
      expect(`${b.text}\n`).toBe(readFileSync(`pipelines/${name}.json`, 'utf8'));
    }
  });
});

// --- ts / js ------------------------------------------------------------------------------------------------------

describe('ts and js blocks', () => {
  test('complete blocks type-check and fragments parse with imports that exist', () => {
    // two planted blocks show the check can fail: a type error in a complete block, a missing export in a fragment
    const planted: CodeBlock[] = [
      { file: 'planted', line: 1, language: 'ts', flags: [], text: "import { createRankwise } from '@rankwise/core';\nconst n: number = createRankwise();\n" },
      { file: 'planted', line: 2, language: 'ts', flags: ['fragment'], text: "import { noSuchExport } from '@rankwise/core';\nnoSuchExport(model);\n" },
    ];
    const code = [...blocks.filter((b) => b.language === 'ts' || b.language === 'js'), ...planted];
    const dir = resolve('test/.docs-blocks');
    const virtual = new Map<string, { block: CodeBlock; text: string; semantic: boolean }>();
    code.forEach((b, i) => {
      const ext = b.language === 'ts' ? 'mts' : 'mjs';
      const name = `${b.file.replace(/[^\w]+/g, '-')}-${b.line}`;
      const fragment = b.flags.includes('fragment');
      virtual.set(join(dir, `${name}.${ext}`), { block: b, text: b.text, semantic: !fragment });
      if (fragment) {
        // the fragment's imports alone, in a file of their own: the names must be exports of those modules
        const source = ts.createSourceFile('x.ts', b.text, ts.ScriptTarget.ES2022, true);
        const imports = source.statements.filter(ts.isImportDeclaration).map((s) => s.getText(source));
        virtual.set(join(dir, `${name}-imports-${i}.mts`), { block: b, text: `${imports.join('\n')}\nexport {};\n`, semantic: true });
      }
    });
    const config = ts.getParsedCommandLineOfConfigFile(resolve('tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
    if (!config) throw new Error('tsconfig.json does not parse');
    const options: ts.CompilerOptions = {
      ...config.options,
      noEmit: true,
      allowJs: true,
      noUnusedLocals: false,
      baseUrl: resolve('.'),
      paths: { 'rankwise-placement-largest': ['test/fixtures/packages/rankwise-placement-largest/index.d.ts'] },
    };
    const host = ts.createCompilerHost(options);
    const { getSourceFile, fileExists, readFile } = host;
    host.fileExists = (f) => virtual.has(resolve(f)) || fileExists(f);
    host.readFile = (f) => virtual.get(resolve(f))?.text ?? readFile(f);
    host.getSourceFile = (f, language, ...rest) => {
      const v = virtual.get(resolve(f));
      return v ? ts.createSourceFile(f, v.text, language, true) : getSourceFile(f, language, ...rest);
    };
    const program = ts.createProgram([...virtual.keys()], options, host);
    const problems: string[] = [];
    for (const [file, v] of virtual) {
      const source = program.getSourceFile(file);
      if (!source) throw new Error(`${file} not in the program`);
      const diagnostics = [...program.getSyntacticDiagnostics(source), ...(v.semantic ? program.getSemanticDiagnostics(source) : [])];
      for (const d of diagnostics) {
        const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1;
        problems.push(`${where(v.block)} (+${line}${file.includes('-imports-') ? ', imports' : ''}): ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
      }
    }
    expect(problems.filter((p) => p.startsWith('planted:1 '))).toEqual([expect.stringContaining("is not assignable to type 'number'")]);
    expect(problems.filter((p) => p.startsWith('planted:2 '))).toEqual([expect.stringMatching(/imports\): Module .* has no exported member 'noSuchExport'/)]);
    expect(problems.filter((p) => !p.startsWith('planted:'))).toEqual([]);
  }, 120_000);
});
