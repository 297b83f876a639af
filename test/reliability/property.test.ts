import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { createRankwise, parseOverride, PipelineValidationError } from '@rankwise/core';
import { SilentProgress } from '@rankwise/core/runs';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '@rankwise/formats';
import { runCli } from '../helpers/cli.js';

/**
 * Property-based: mutated pipelines, --set expressions and safetensors headers always end in "valid" or a
 * validation error of one-line issues (exit 0 or 2), never another exception, a stack trace or a hang.
 * Seeded and bounded in runs and time.
 */

const PIPELINES = readdirSync('pipelines')
  .filter((f) => f.endsWith('.json'))
  .sort();
const rankwise = createRankwise({ progress: new SilentProgress() });
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values a hostile or careless user might put anywhere. */
const hostile: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    Infinity,
    -Infinity,
    NaN,
    -0,
    1e308,
    2 ** 53 + 1,
    -1,
    0,
    1e12,
    '',
    '__proto__',
    'constructor',
    '\u0000',
    '/(a*)*b/',
    '../../etc/passwd',
    [],
    {},
    null,
  ),
  fc.integer({ min: 65, max: 200 }).map((depth) => JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`) as unknown),
);

/** Every JSON pointer into `value` (as token lists). */
function paths(value: unknown, prefix: string[] = []): string[][] {
  const out = [prefix];
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...prefix, k]));
  return out;
}

type Mutation = { op: 'replace' | 'delete' | 'add'; at: number; key: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('replace', 'delete', 'add'),
  at: fc.nat(),
  key: fc.oneof(fc.constantFrom('__proto__', 'constructor', 'steps', 'from', 'stage', 'label', 'options', 'r'), fc.string({ maxLength: 6 })),
  value: hostile,
}) as fc.Arbitrary<Mutation>;

function mutate(original: Json, mutations: Mutation[]): unknown {
  const doc = structuredClone(original) as unknown as { [k: string]: unknown };
  for (const m of mutations) {
    const all = paths(doc);
    const path = all[m.at % all.length];
    if (path.length === 0) continue;
    const parent = path.slice(0, -1).reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], doc) as Record<string, unknown>;
    const last = path[path.length - 1];
    if (m.op === 'replace') parent[last] = m.value;
    else if (m.op === 'delete') delete parent[last];
    else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target))
        Object.defineProperty(target, m.key, { value: m.value, enumerable: true, writable: true, configurable: true });
    }
  }
  return doc;
}

/** Valid, or a PipelineValidationError whose every issue is one line with a file; anything else fails the property. */
async function validatesCleanly(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof PipelineValidationError)) throw error;
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(issue.file).not.toBe('');
      expect(issue.message).not.toMatch(/\n|\s+at \S+ \(|is not a function|Cannot read properties|Maximum call stack/);
    }
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
}

test.each(PIPELINES)(
  'mutations of %s validate cleanly (valid, or one-line issues)',
  async (file) => {
    const original = JSON.parse(readFileSync(join('pipelines', file), 'utf8')) as Json;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const doc = mutate(original, mutations);
        await validatesCleanly(() => rankwise.validate(doc as never, 'pipelines'));
      }),
      { seed: 20261204, numRuns: 60, interruptAfterTimeLimit: 8_000 },
    );
  },
  60_000,
);

test('byte-level mutations of pipeline files (truncation, stray bytes, invalid UTF-8) validate cleanly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-prop-'));
  const texts = PIPELINES.map((f) => readFileSync(join('pipelines', f)));
  await fc.assert(
    fc.asyncProperty(
      fc.nat({ max: texts.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')), { minLength: 1, maxLength: 5 }),
      async (which, edits) => {
        let bytes = Buffer.from(texts[which]);
        for (const [at, byte, op] of edits) {
          const i = at % Math.max(bytes.length, 1);
          if (op === 'set') bytes[i] = byte;
          else if (op === 'insert') bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
          else bytes = bytes.subarray(0, i);
        }
        const file = join(dir, PIPELINES[which]);
        await writeFile(file, bytes);
        await validatesCleanly(() => rankwise.validateFile(file));
      },
    ),
    { seed: 7, numRuns: 120, interruptAfterTimeLimit: 15_000 },
  );
}, 60_000);

test('--set expressions: refused with a one-line message, or applied and validated cleanly; nothing reaches Object.prototype', async () => {
  const segment = fc.oneof(
    fc.constantFrom(
      'stages',
      'seed',
      'name',
      'steps',
      'optimizer',
      'lr',
      '__proto__',
      'constructor',
      'prototype',
      '',
      '0',
      '1',
      '4',
      '03',
      '0x3',
      '1e0',
      '-1',
      ' 2',
      'polluted',
      '~1',
      '~0',
    ),
    fc.string({ maxLength: 4 }),
  );
  const expression = fc.tuple(
    fc.boolean(),
    fc.array(segment, { minLength: 0, maxLength: 5 }),
    fc.oneof(
      fc.string({ maxLength: 8 }),
      hostile.map((v) => JSON.stringify(v) ?? 'x'),
    ),
  );
  await fc.assert(
    fc.asyncProperty(expression, async ([pointerForm, segments, value]) => {
      const path = pointerForm ? `/${segments.join('/')}` : segments.join('.');
      let override;
      try {
        override = parseOverride(`${path}=${value}`);
      } catch (error) {
        expect(error).toBeInstanceOf(Error);
        expect((error as Error).message).toMatch(/^--set /);
        expect((error as Error).message).not.toContain('\n');
        return;
      }
      await validatesCleanly(() => rankwise.validateFile('pipelines/digits-base.json', [override]));
    }),
    { seed: 99, numRuns: 300, interruptAfterTimeLimit: 15_000 },
  );
}, 60_000);

test('mutated safetensors headers are refused with a SafetensorsError naming the file, never another exception', () => {
  const valid = encodeSafetensors(
    [
      { name: 'a', shape: [2, 3], data: new Float32Array(6) },
      { name: 'b', shape: [4], data: new Float32Array(4) },
    ],
    { format: 'pt' },
  );
  const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(valid.subarray(8, 8 + headerLength))) as Record<string, Record<string, unknown>>;
  const entryKey = fc.constantFrom('a', 'b', '__metadata__', 'c');
  const field = fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(entryKey, field, hostile), { minLength: 1, maxLength: 4 }),
      fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })),
      (edits, length) => {
        const h = structuredClone(header) as Record<string, unknown>;
        for (const [key, f, value] of edits) {
          const entry = h[key];
          if (entry && typeof entry === 'object' && !Array.isArray(entry)) (entry as Record<string, unknown>)[f] = value;
          else h[key] = value;
        }
        const json = new TextEncoder().encode(JSON.stringify(h) ?? '');
        const bytes = new Uint8Array(8 + json.length + 40);
        new DataView(bytes.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
        bytes.set(json, 8);
        try {
          decodeSafetensors(bytes, 'model.safetensors');
        } catch (error) {
          expect(error).toBeInstanceOf(SafetensorsError);
          expect((error as Error).message).toMatch(/^model\.safetensors: /);
          expect((error as Error).message).not.toContain('\n');
        }
      },
    ),
    { seed: 5, numRuns: 500, interruptAfterTimeLimit: 10_000 },
  );
});

test('through the CLI: mutated files exit 0 or 2 with one ✖ line per problem, no stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-prop-cli-'));
  const original = JSON.parse(readFileSync('pipelines/digits-lora.json', 'utf8')) as Json;
  const samples = fc.sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { seed: 3, numRuns: 4 });
  const files = await Promise.all(
    samples.map(async (mutations, i) => {
      const file = join(dir, `m${i}.json`);
      await writeFile(
        file,
        // biome-ignore lint/correctness/noPrecisionLoss: 1e999 is Infinity on purpose (a non-finite number written into the JSON text)
        JSON.stringify(mutate(original, mutations), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? 1e999 : v)),
      );
      return file;
    }),
  );
  await writeFile(join(dir, 'digits-base.json'), readFileSync('pipelines/digits-base.json'));
  const cli = runCli(['validate', ...files]);
  expect([0, 2]).toContain(cli.status);
  for (const line of cli.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^✖ /);
  expect(cli.stderr).not.toMatch(/\n\s+at |Error:/);
}, 60_000);
