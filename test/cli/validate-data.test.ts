import { afterEach, expect, test, vi } from 'vitest';
import { validateInProcess } from '../helpers/validate-in-process.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const validate = validateInProcess;

const dir = 'test/fixtures/bad-data';

test('bad data files: exit 2, one line per problem with the data file, line or row, and pointer; nothing loads', async () => {
  const table = await validate(`${dir}/table.json`);
  expect(table.code).toBe(2);
  expect(table.errors).toEqual([
    expect.stringMatching(/^✖ test\/fixtures\/bad-data\/rows\.jsonl:2: \/: not valid JSON \(/),
    '✖ test/fixtures/bad-data/rows.jsonl:3: /label: missing field "label" (the label column; set "label" to name another)',
    '✖ test/fixtures/bad-data/rows.jsonl:4: /label: label "up" is outside the classes ["left","right"]',
    '✖ test/fixtures/bad-data/rows.jsonl:5: /a: found "x", allowed: a finite number (feature "a")',
  ]);
  const images = await validate(`${dir}/images.json`);
  expect(images.code).toBe(2);
  expect(images.errors).toEqual([expect.stringMatching(/^✖ test\/fixtures\/bad-data\/images\/dog\/broken\.png: \/: the image does not decode \(.+\)$/)]);
  const text = await validate(`${dir}/short-text.json`);
  expect(text.code).toBe(2);
  expect(text.errors).toEqual([
    "✖ test/fixtures/bad-data/short.txt: /: the text is too short to split: at most 20 tokens, one block of blockSize 10000; train and validation need 2 blocks or more (set a blockSize below the text's length in tokens)",
  ]);
  const shape = await validate(`${dir}/wrong-shape.json`);
  expect(shape.code).toBe(2);
  expect(shape.errors).toEqual(["✖ test/fixtures/bad-data/wrong-shape.json: /stages/1/data: the data has 2 features; the model's input is 3"]);
});
