import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { CharVocab, createDatasetSource, splitTextBlocks } from '@rankwise/datasets';
import { sameArray } from './same-array.js';

describe('createDatasetSource: text', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rankwise-source-'));
  const text = Array.from({ length: 400 }, (_, i) => `line ${i}: ${'abcdefg'.slice(0, i % 7)}`).join('\n');
  writeFileSync(path.join(dir, 'corpus.txt'), text);
  const corpus = { dataset: 'text-file' as const, path: 'corpus.txt' };

  test('train and validation come from one encode and one split, shared by later calls', async () => {
    const source = createDatasetSource();
    expect(await source.corpusText(corpus, dir)).toBe(text);
    const vocab = CharVocab.build(text.slice(0, 200));
    const spec = { ...corpus, blockSize: 300, splitSeed: 5 };
    const train = await source.text({ ...spec, split: 'train' }, vocab, dir);
    const validation = await source.text({ ...spec, split: 'validation' }, vocab, dir);
    const expected = splitTextBlocks(vocab.encode(text), { validationFraction: 0.1, blockSize: 300, seed: 5 });
    expect(sameArray(train.ids, expected.train)).toBe(true);
    expect(sameArray(validation.ids, expected.validation)).toBe(true);
    expect(train.name).toBe(`file:${path.join(dir, 'corpus.txt')}/train`);
    expect((await source.text({ ...spec, split: 'train' }, vocab, dir)).ids).toBe(train.ids);
    expect((await source.text({ ...spec, split: 'validation' }, vocab, dir)).ids).toBe(validation.ids);
    // Another seed, or another vocabulary object, is another split.
    expect((await source.text({ ...spec, splitSeed: 6, split: 'train' }, vocab, dir)).ids).not.toBe(train.ids);
    const other = await source.text({ ...spec, split: 'train' }, CharVocab.build(text.slice(0, 200)), dir);
    expect(other.ids).not.toBe(train.ids);
    expect(sameArray(other.ids, train.ids)).toBe(true);
  });

  test('a failed load is not remembered: the next call reads the file again', async () => {
    const source = createDatasetSource();
    const late = { dataset: 'text-file' as const, path: 'late.txt' };
    const file = path.join(dir, 'late.txt');
    await expect(source.corpusText(late, dir)).rejects.toThrow(`text file not found: ${file}`);
    writeFileSync(file, 'now it exists');
    expect(await source.corpusText(late, dir)).toBe('now it exists');
  });

  test('a split that cannot be made fails on every call', async () => {
    const source = createDatasetSource();
    const vocab = CharVocab.build(text);
    const spec = { ...corpus, split: 'train' as const, blockSize: text.length };
    for (let i = 0; i < 2; i++) {
      await expect(source.text(spec, vocab, dir)).rejects.toThrow(/that is 1 block\(s\), at least 2 are needed/);
    }
  });
});
