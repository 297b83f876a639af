import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { parquetWriteFile } from 'hyparquet-writer';
import { describe, expect, test } from 'vitest';
import { splitOf as coreSplitOf, type DataRecord } from '@rankwise/core/plugin';
import { loadImageFolder, readRecords, splitOf } from '@rankwise/datasets';
import { JsonArraySplitter } from '../../packages/datasets/src/files/json-array-stream.js';

async function all(path: string): Promise<DataRecord[]> {
  const out: DataRecord[] = [];
  for await (const record of readRecords(path, { display: path.split('/').pop() })) out.push(record);
  return out;
}

async function failure(path: string): Promise<string> {
  try {
    await all(path);
  } catch (error) {
    expect((error as Error).name).toBe('DataError');
    return (error as Error).message;
  }
  throw new Error('expected a DataError');
}

const ROWS = [
  { x: 1.5, y: -2, label: 'a' },
  { x: 0, y: 3.25, label: 'b' },
  { x: 7, y: 8, label: 'a' },
];

describe('data files are streamed record by record, every format the same records', () => {
  test('JSONL, JSON array, CSV, TSV and Parquet, each also gzipped, give the same records with their lines / rows', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-records-'));
    const jsonl = `${ROWS.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const json = `[\n${ROWS.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n]\n`;
    const csv = `x,y,label\n${ROWS.map((r) => `${r.x},${r.y},${r.label}`).join('\n')}\n`;
    const files: Record<string, string> = { 'd.jsonl': jsonl, 'd.json': json, 'd.csv': csv, 'd.tsv': csv.replace(/,/g, '\t') };
    for (const [name, text] of Object.entries(files)) {
      await writeFile(join(dir, name), text);
      await writeFile(join(dir, `${name}.gz`), gzipSync(text));
    }
    parquetWriteFile({
      filename: join(dir, 'd.parquet'),
      columnData: [
        { name: 'x', data: ROWS.map((r) => r.x), type: 'DOUBLE' },
        { name: 'y', data: ROWS.map((r) => r.y), type: 'DOUBLE' },
        { name: 'label', data: ROWS.map((r) => r.label), type: 'STRING' },
      ],
    });
    const { readFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'd.parquet.gz'), gzipSync(await readFile(join(dir, 'd.parquet'))));
    for (const name of ['d.jsonl', 'd.json', 'd.parquet']) {
      for (const file of [name, `${name}.gz`]) {
        const records = await all(join(dir, file));
        expect(
          records.map((r) => r.value),
          file,
        ).toEqual(ROWS);
        expect(
          records.map((r) => r.where.row),
          file,
        ).toEqual([0, 1, 2]);
      }
    }
    for (const name of ['d.csv', 'd.tsv']) {
      for (const file of [name, `${name}.gz`]) {
        const records = await all(join(dir, file));
        // CSV values are strings; the reader keeps them so (the table dataset converts and checks numbers)
        expect(
          records.map((r) => r.value),
          file,
        ).toEqual(ROWS.map((r) => ({ x: String(r.x), y: String(r.y), label: r.label })));
        expect(
          records.map((r) => r.where.line),
          file,
        ).toEqual([2, 3, 4]);
      }
    }
    expect((await all(join(dir, 'd.jsonl'))).map((r) => r.where.line)).toEqual([1, 2, 3]);
    expect((await all(join(dir, 'd.json'))).map((r) => r.where.line)).toEqual([2, 3, 4]);
  });

  test('a bad record is one DataError naming the file, the line and what was found', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-records-'));
    const cases: Record<string, string | Uint8Array> = {
      'bad.jsonl': '{"a":1}\n\n{"a":2\n',
      'array.jsonl': '{"a":1}\n[1,2]\n',
      'bad.json': '[{"a":1},\n 7]',
      'open.json': '[{"a":1},',
      'object.json': '{"a":1}',
      'short.csv': 'a,b\n1,2\n3\n',
      'bad.jsonl.gz': new Uint8Array([31, 139, 8, 0, 1, 2, 3]),
      'bad.parquet': 'not parquet at all',
      'latin1.jsonl': new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d, 0x0a]),
      'data.xml': '<a/>',
    };
    for (const [name, content] of Object.entries(cases)) await writeFile(join(dir, name), content);
    expect(await failure(join(dir, 'bad.jsonl'))).toMatch(/^bad\.jsonl:3: not valid JSON/);
    expect(await failure(join(dir, 'array.jsonl'))).toBe('array.jsonl:2: found an array, allowed: a JSON object per record');
    expect(await failure(join(dir, 'bad.json'))).toBe('bad.json:2 /1: found 7, allowed: a JSON object per record');
    expect(await failure(join(dir, 'open.json'))).toBe('open.json:1: the file ends inside the array (no closing "]")');
    expect(await failure(join(dir, 'object.json'))).toBe('object.json:1: a JSON array must start with "[", found "{"');
    expect(await failure(join(dir, 'short.csv'))).toMatch(/^short\.csv:3: /);
    expect(await failure(join(dir, 'bad.jsonl.gz'))).toMatch(/^bad\.jsonl\.gz: not valid gzip data/);
    expect(await failure(join(dir, 'bad.parquet'))).toMatch(/^bad\.parquet: not a Parquet file/);
    expect(await failure(join(dir, 'latin1.jsonl'))).toBe('latin1.jsonl: not valid UTF-8 text');
    expect(await failure(join(dir, 'data.xml'))).toMatch(/^data\.xml: unknown data file format/);
    expect(await failure(join(dir, 'missing.jsonl'))).toBe('missing.jsonl: file not found');
  });

  test('the JSON array splitter gives the same elements whatever the chunking (strings with brackets, escapes, nesting)', () => {
    const elements = [{ s: 'a]b}"c\\', n: [1, [2, { t: '[' }]] }, { e: {} }, { u: 'é\n' }];
    const text = ` [ ${elements.map((e) => JSON.stringify(e)).join(' ,\n')} ] `;
    for (const size of [1, 2, 3, 7, text.length]) {
      const splitter = new JsonArraySplitter();
      const out: string[] = [];
      for (let i = 0; i < text.length; i += size) out.push(...splitter.push(text.slice(i, i + size)).map((e) => e.text));
      splitter.end();
      expect(
        out.map((t) => JSON.parse(t)),
        `chunks of ${size}`,
      ).toEqual(elements);
    }
  });

  test('splitOf: the same rule in core and in @rankwise/datasets; the validation share is near the fraction; the seed changes it', () => {
    let validation = 0;
    let moved = 0;
    for (let i = 0; i < 20_000; i++) {
      const side = splitOf(i, 0.2, 5);
      expect(coreSplitOf(i, 0.2, 5)).toBe(side);
      if (side === 'validation') validation++;
      if (splitOf(i, 0.2, 6) !== side) moved++;
    }
    expect(Math.abs(validation / 20_000 - 0.2)).toBeLessThan(0.01); // binomial sd 0.0028
    expect(moved).toBeGreaterThan(4000); // an independent split moves 2·0.2·0.8 = 32% of records
  });
});

describe('image folders', () => {
  test('one folder per class: decoded with sharp, converted to the shape and channels asked for, scaled to [0, 1]; bad files are reported', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-images-'));
    await mkdir(join(dir, 'cat'));
    await mkdir(join(dir, 'dog'));
    // a 2×2 RGB image: red, green / blue, white; and a 4×4 grey JPEG-free PNG of constant 128
    const rgb = Buffer.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    await sharp(rgb, { raw: { width: 2, height: 2, channels: 3 } })
      .png()
      .toFile(join(dir, 'cat', 'a.png'));
    await sharp(Buffer.alloc(16, 128), { raw: { width: 4, height: 4, channels: 1 } })
      .png()
      .toFile(join(dir, 'dog', 'b.png'));
    const data = await loadImageFolder(dir, { shape: [2, 2, 3], display: 'pets' });
    expect(data.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(data.y)).toEqual([0, 1]);
    expect(data.inputShape).toEqual([2, 2, 3]);
    expect(Array.from(data.x.subarray(0, 12))).toEqual(Array.from(rgb, (v) => v / 255));
    // 4×4 grey → 2×2 RGB: every value 128/255 (a constant image stays constant under resizing)
    for (const v of data.x.subarray(12)) expect(v).toBeCloseTo(128 / 255, 6);
    const grey = await loadImageFolder(dir, { shape: [2, 2, 1] });
    // sharp (libvips) greys in linear light: the Rec. 709 luminance of pure red, green, blue and white (0.2126,
    // 0.7152, 0.0722, 1), encoded back to sRGB; within one level of 255
    const srgb = (y: number) => (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
    const luma = [0.2126, 0.7152, 0.0722, 1].map(srgb);
    Array.from(grey.x.subarray(0, 4)).forEach((v, i) => expect(Math.abs(v - luma[i])).toBeLessThan(1.5 / 255));
    await writeFile(join(dir, 'dog', 'broken.png'), 'not an image');
    const problems: string[] = [];
    const partial = await loadImageFolder(dir, { shape: [2, 2, 1], display: 'pets', onProblem: (file, message) => problems.push(`${file}: ${message}`) });
    expect(partial.n).toBe(2);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^pets\/dog\/broken\.png: the image does not decode \(/);
    await expect(loadImageFolder(dir, { shape: [2, 2, 1], display: 'pets' })).rejects.toThrow(/^pets\/dog\/broken\.png: the image does not decode/);
  });
});
