import { describe, expect, test } from 'vitest';
import type { TextDataSpec } from '@rankwise/core';
import { createDatasetSource, HfTokenizer } from '@rankwise/datasets';
import { fixture, reference } from './fixtures.js';
import { loadSotuSpeeches } from '../../packages/datasets/src/text/sotu.js';

describe('tokenizer.json through @huggingface/tokenizers', () => {
  test("encodes the reference sentence to the ids the Python script's byte-level BPE gives", async () => {
    const tokenizer = await HfTokenizer.fromDirectory(fixture('llama-tiny'));
    expect(tokenizer.size).toBe(reference.eosId + 1);
    expect(Array.from(tokenizer.encode(reference.sentence))).toEqual(reference.sentenceIds);
  });

  test('round-trips State of the Union text exactly (every 20th address, all eras) and odd characters', async () => {
    const tokenizer = await HfTokenizer.fromDirectory(fixture('llama-tiny'));
    const speeches = (await loadSotuSpeeches()).filter((_, i) => i % 20 === 0);
    const text = speeches.map((s) => s.text).join('\n\n');
    expect(text.length).toBeGreaterThan(250_000);
    const ids = tokenizer.encode(text);
    expect(ids.length).toBeGreaterThan(text.length / 4); // a real tokenization, not one id per text
    expect(tokenizer.decode(ids)).toBe(text);
    const odd = 'Fellow-Citizens  of the Senate:\r\n\t“1776” — naïve café 😀 <|endoftext|> ';
    expect(tokenizer.decode(tokenizer.encode(odd))).toBe(odd);
  });

  test('a missing or broken tokenizer.json is named', async () => {
    await expect(HfTokenizer.fromDirectory(fixture('llama-tiny-f16'))).rejects.toThrow(`${fixture('llama-tiny-f16')}: no tokenizer.json`);
  });

  test('text data tokenized with it: bytes per token for bits per byte, full coverage, JSON round trip', async () => {
    const source = createDatasetSource();
    const vocab = await source.tokenizer!(fixture('llama-tiny'));
    const spec: TextDataSpec = { dataset: 'sotu', split: 'validation', years: [1861, 1865] };
    const arrays = await source.text(spec, vocab, '.');
    const text = await source.corpusText(spec, '.');
    expect(arrays.coverage).toBe(1);
    expect(arrays.bytesPerToken).toBeCloseTo(Buffer.byteLength(text) / vocab.encode(text).length, 10);
    const again = await source.vocabularyFromJSON(JSON.parse(JSON.stringify(vocab.toJSON())));
    expect(Array.from(again.encode(reference.sentence))).toEqual(reference.sentenceIds);
  });
});
