import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { applyOverrides, capIssues, createRankwise, parseOverride, PipelineValidationError, type Pipeline, type ValidationIssue } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { compilePattern } from '../../plugins/placement-pattern/src/matcher.js';
import { runCli } from '../helpers/cli.js';

const rankwise = () => createRankwise({ progress: new SilentProgress() });
const tmp = () => mkdtemp(join(tmpdir(), 'rankwise-hostile-'));

async function issuesOf(file: string, overrides = [] as ReturnType<typeof parseOverride>[]): Promise<ValidationIssue[]> {
  const error = await rankwise()
    .validateFile(file, overrides)
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(PipelineValidationError);
  return (error as PipelineValidationError).issues;
}

const base = async (): Promise<Pipeline> => JSON.parse(await readFile('pipelines/digits-base.json', 'utf8')) as Pipeline;

test('a pipeline nested 3,000 levels deep is one clear error naming the file; the other files on the command line are still validated', async () => {
  const dir = await tmp();
  await writeFile(join(dir, 'deep.json'), `{"name":"deep","stages":${'['.repeat(3000)}${']'.repeat(3000)}}`);
  await writeFile(join(dir, 'ok.json'), JSON.stringify({ ...(await base()), $schema: undefined }));
  const issues = await issuesOf(join(dir, 'deep.json'));
  expect(issues).toHaveLength(1);
  expect(issues[0].message).toMatch(/^not valid JSON: nested more than 64 levels deep \(line 1, column \d+\); allowed: at most 64$/);
  const cli = runCli(['validate', join(dir, 'deep.json'), join(dir, 'ok.json')]);
  expect(cli.status).toBe(2);
  expect(cli.stderr.trim().split('\n')).toEqual([expect.stringMatching(/deep\.json: \/: not valid JSON: nested more than 64 levels/)]);
  expect(cli.stdout).toMatch(/✓ .*ok\.json/);
  expect(cli.stderr).not.toMatch(/Maximum call stack|\n\s+at /);
}, 60_000);

test('invalid UTF-8 in a pipeline file is rejected, not silently turned into U+FFFD', async () => {
  const dir = await tmp();
  await writeFile(join(dir, 'latin1.json'), Buffer.concat([Buffer.from('{"name":"caf'), Buffer.from([0xe9]), Buffer.from('","stages":[]}')]));
  expect((await issuesOf(join(dir, 'latin1.json'))).map((i) => i.message)).toEqual(['not valid UTF-8 (byte 12 of 27); pipeline files must be UTF-8 text']);
});

test.each([
  ['__proto__.x=1', /the segment "__proto__"/],
  ['stages.0.constructor.prototype.x=1', /the segment "constructor"/],
  ['/stages/0/prototype=1', /the segment "prototype"/],
  ['stages..label=x', /an empty segment/],
  ['stages.0x3.steps=9', /"0x3" is not an array index; allowed: a plain decimal integer/],
  ['stages.03.steps=9', /"03" is not an array index/],
  ['stages.1e0.steps=9', /"1e0" is not an array index/],
])('--set %s is refused with one line', (text, message) => {
  expect(() => parseOverride(text)).toThrow(message);
});

test('overrides never write into Object.prototype, even given raw pointers', () => {
  const { issues } = applyOverrides({ stages: [] }, [
    { pointer: '/__proto__/polluted', value: 1, source: 'raw' },
    { pointer: '/constructor/prototype/polluted', value: 1, source: 'raw' },
  ]);
  expect(issues).toHaveLength(2);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  const index = applyOverrides({ stages: [{ a: 1 }, { a: 2 }] }, [{ pointer: '/stages/ 1/a', value: 9, source: 'raw' }]);
  expect(index.issues[0].message).toMatch(/no item {2}1/);
});

test('Infinity is shown as Infinity, not "found null"', async () => {
  const issues = await issuesOf('pipelines/digits-base.json', [parseOverride('stages.1.steps=1e999')]);
  expect(issues.map((i) => `${i.pointer}: ${i.message}`)).toEqual(['/stages/1/steps: found Infinity, allowed: an integer']);
});

test('at most 50 problems are printed per file, then how many more there are', () => {
  const many = Array.from({ length: 1200 }, (_, i) => ({ file: i % 2 ? 'a.json' : 'b.json', pointer: `/x/${i}`, message: 'bad' }));
  const capped = capIssues(many);
  expect(capped).toHaveLength(102);
  expect(capped.filter((i) => i.file === 'a.json')).toHaveLength(51);
  expect(capped.at(-1)?.message).toBe('… and 550 more problems (600 in all; the first 50 are shown)');
});

test('a wrong type gives one message about the type, no false messages about keys the value cannot have', async () => {
  const dir = await tmp();
  const pipeline = await base();
  (pipeline.stages[1] as unknown as { optimizer: unknown }).optimizer = 'adam';
  await writeFile(join(dir, 'p.json'), JSON.stringify({ ...pipeline, $schema: undefined }));
  expect((await issuesOf(join(dir, 'p.json'))).map((i) => `${i.pointer}: ${i.message}`)).toEqual(['/stages/1/optimizer: found "adam", allowed: an object']);
});

test('a "from" that is not a pipeline is reported without quoting its contents', async () => {
  const dir = await tmp();
  await writeFile(join(dir, 'secrets.txt'), 'API_KEY=sk-verysecret and more text');
  await writeFile(join(dir, 'other.json'), '{"password":"hunter2"}');
  for (const [target, why] of [
    ['secrets.txt', 'not valid JSON'],
    ['other.json', 'no "name" and "stages"'],
  ]) {
    await writeFile(join(dir, 'p.json'), JSON.stringify({ name: 'p', stages: [{ stage: 'load', from: `./${target}` }] }));
    const issues = await issuesOf(join(dir, 'p.json'));
    expect(issues).toHaveLength(1);
    expect(issues[0].message).toMatch(new RegExp(`${target.replace('.', '\\.')} is not a pipeline file \\(${why}\\)$`));
    expect(issues[0].message).not.toMatch(/sk-verysecret|API_KEY|hunter2|password/);
  }
});

test('placement regexes run in linear time (RE2): nested quantifiers cannot stall validation; backreferences are refused', () => {
  const match = compilePattern('/(a*)*(a*)*(a*)*(a*)*b/', '/target');
  const started = performance.now();
  expect(match(`${'a'.repeat(5000)}c`)).toBe(false); // a backtracking engine needs ~forever here
  expect(performance.now() - started).toBeLessThan(1500);
  expect(match('aaab')).toBe(true);
  expect(() => compilePattern('/(a)\\1/', '/target')).toThrow(/invalid pattern "\/\(a\)\\\\1\/": .*RE2 syntax: no backreferences or lookaround/);
  expect(() => compilePattern('/(?=a)a/', '/target')).toThrow(/RE2 syntax/);
});

test('file-system trouble is one line naming the path: --out under a file, an unreadable adapter config, a malformed adapter config', async () => {
  const dir = await tmp();
  await writeFile(join(dir, 'a-file'), 'x');
  const cli = runCli(['run', 'pipelines/digits-base.json', '--out', join(dir, 'a-file', 'runs'), '--quiet']);
  expect(cli.status).toBe(2);
  expect(cli.stderr.trim()).toMatch(/^✖ --out .*a-file\/runs: .*a-file is a file, not a directory$/);
  const adapter = join(dir, 'adapter');
  await mkdir(join(adapter, 'adapter_config.json'), { recursive: true }); // EISDIR on read
  await writeFile(
    join(dir, 'p.json'),
    JSON.stringify({ name: 'p', stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [4, 2] }, adapter: './adapter' }] }),
  );
  const read = await issuesOf(join(dir, 'p.json'));
  expect(read[0].message).toMatch(/cannot read .*adapter_config\.json: is a directory, not a file \(EISDIR\)/);
  expect(read[0].message).not.toMatch(/not valid JSON/);
  const bad = join(dir, 'adapter2');
  await mkdir(bad);
  await writeFile(join(bad, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 4, rankwise: { sites: 'all' } }));
  await writeFile(
    join(dir, 'p.json'),
    JSON.stringify({ name: 'p', stages: [{ stage: 'load', architecture: 'mlp', config: { sizes: [4, 2] }, adapter: './adapter2' }] }),
  );
  const malformed = await issuesOf(join(dir, 'p.json'));
  expect(malformed[0].message).toMatch(/adapter_config\.json: \/rankwise\/sites: found "all", allowed: an array of \{ path, r, alpha \}/);
}, 60_000);

test('single-character text says it is too short, not "use a blockSize below 1"', async () => {
  const { splitTextBlocks } = await import('@rankwise/datasets');
  expect(() => splitTextBlocks(Int32Array.from([5]), { validationFraction: 0.1, blockSize: 64, seed: 0 })).toThrow(
    'cannot split 1 token(s) into train and validation: at least 2 are needed (the text is too short)',
  );
});
