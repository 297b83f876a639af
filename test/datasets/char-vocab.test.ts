import { describe, expect, test } from 'vitest';
import { CharVocab, loadText, type CharVocabJson } from '@rankwise/datasets';
import { sameArray } from './same-array.js';

describe('CharVocab', () => {
  test('sorted unique characters by code point after <unk> = 0; encode/decode round trip', () => {
    const vocab = CharVocab.build('hello world');
    expect(vocab.toJSON()).toEqual({ type: 'char', unknown: '<unk>', chars: [' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w'] });
    expect(vocab.size).toBe(9);
    expect(Array.from(vocab.encode('hello'))).toEqual([4, 3, 5, 5, 6]);
    expect(vocab.decode(vocab.encode('hello world'))).toBe('hello world');
    expect(vocab.decode([8, 6, 7, 5, 2])).toBe('world');
    expect(vocab.encode('')).toEqual(new Int32Array(0));
  });

  test('unknown characters encode to 0, decode to U+FFFD, and never throw', () => {
    const vocab = CharVocab.build('abc');
    expect(Array.from(vocab.encode('aXb\u0000c😀'))).toEqual([1, 0, 2, 0, 3, 0]);
    expect(vocab.decode(vocab.encode('aXb'))).toBe('a\uFFFDb');
    expect(vocab.coverage('abXY')).toBe(0.5);
    expect(vocab.coverage('')).toBe(1);
    expect(Array.from(vocab.encode('\uD800a\uDC00'))).toEqual([0, 1, 0]); // lone surrogates
    expect(() => vocab.decode([4])).toThrow('decode: ids[0] = 4 is not an integer id in [0, 4)');
    expect(() => vocab.decode([1, 1.5])).toThrow(/ids\[1\] = 1.5/);
  });

  test('surrogate pairs are one character', () => {
    const vocab = CharVocab.build('a😀b😀𝄞');
    expect(vocab.toJSON().chars).toEqual(['a', 'b', '𝄞', '😀']); // U+1D11E < U+1F600
    expect(vocab.size).toBe(5);
    expect(Array.from(vocab.encode('😀a𝄞'))).toEqual([4, 1, 3]);
    expect(vocab.decode(vocab.encode('b😀𝄞a'))).toBe('b😀𝄞a');
    expect(vocab.coverage('😁😀')).toBe(0.5);
  });

  test('maxSize keeps the most frequent characters, ties by code point', () => {
    const top = CharVocab.build('cccbbaaddd', { maxSize: 3 });
    expect(top.toJSON().chars).toEqual(['c', 'd']); // c and d (3 each) beat b and a (2 each)
    expect(CharVocab.build('dcba', { maxSize: 3 }).toJSON().chars).toEqual(['a', 'b']);
    expect(CharVocab.build('ab', { maxSize: 100 }).size).toBe(3);
    expect(() => CharVocab.build('ab', { maxSize: 1 })).toThrow('maxSize must be an integer ≥ 2; got 1');
  });

  test('toJSON / fromJSON round trip, also through a JSON string', () => {
    const vocab = CharVocab.build('The whale! 🐋 — “Ahab”');
    const copy = CharVocab.fromJSON(JSON.parse(JSON.stringify(vocab)) as CharVocabJson);
    expect(copy.toJSON()).toEqual(vocab.toJSON());
    expect(copy.size).toBe(vocab.size);
    expect(sameArray(copy.encode('whale 🐋 Ahab?'), vocab.encode('whale 🐋 Ahab?'))).toBe(true);
    // fromJSON keeps the given order (id = index + 1), it does not re-sort.
    expect(Array.from(CharVocab.fromJSON({ type: 'char', unknown: '<unk>', chars: ['z', 'a'] }).encode('az'))).toEqual([2, 1]);
  });

  test('fromJSON rejects bad input with a clear message', () => {
    const from = (json: unknown) => () => CharVocab.fromJSON(json as CharVocabJson);
    expect(from(null)).toThrow(/must be an object/);
    expect(from({ type: 'word', unknown: '<unk>', chars: [] })).toThrow(`char vocab JSON: type must be 'char'; got "word"`);
    expect(from({ type: 'char', unknown: '?', chars: [] })).toThrow(`unknown must be '<unk>'; got "?"`);
    expect(from({ type: 'char', unknown: '<unk>' })).toThrow('chars must be an array of strings; got undefined');
    expect(from({ type: 'char', unknown: '<unk>', chars: ['a', 'bc'] })).toThrow('chars[1] must be exactly one character (code point); got "bc"');
    expect(from({ type: 'char', unknown: '<unk>', chars: ['a', 7] })).toThrow('chars[1] must be exactly one character');
    expect(from({ type: 'char', unknown: '<unk>', chars: ['a', 'b', 'a'] })).toThrow('chars[2] "a" repeats chars[0]');
  });

  test('on Moby Dick: 89 characters + <unk>, exact round trip; covers 99.994% of the SOTU text', async () => {
    const book = await loadText({ corpus: 'moby-dick' });
    const vocab = CharVocab.build(book.text);
    expect(vocab.size).toBe(90);
    const ids = vocab.encode(book.text);
    expect(ids.length).toBe(1_217_395);
    expect(ids.indexOf(0)).toBe(-1);
    expect(vocab.decode(ids)).toBe(book.text);
    const speeches = await loadText({ corpus: 'sotu' });
    expect(vocab.coverage(speeches.text)).toBeCloseTo(0.999937, 6);
    const small = CharVocab.build(speeches.text, { maxSize: 64 });
    expect(small.size).toBe(64);
    expect(small.coverage(speeches.text)).toBeCloseTo(0.999069, 6);
  });
});
