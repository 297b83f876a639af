/**
 * @rankwise/gguf on its own: dequantization of Q8_0, Q4_0, Q4_K and Q6_K against gguf-py's reference (committed by
 * scripts/gguf-reference/make_gguf_fixtures.py), half / bfloat16 rounding, Q8_0 bytes equal to gguf-py's quantizer,
 * header validation that names the file and field of each defect.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { GgmlType, GgufReader, dequantize, floatToHalf, gguf, halfToFloat, readGgufHeader, tensorIssues, writeGguf } from '@rankwise/gguf';
import { loadHuggingFaceModel, saveGgufModel } from '@rankwise/core';
import { checkGgufModel } from '@rankwise/formats';
import { GGUF_FIXTURES, HF_TINY, tokenizerOf } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rankwise-gguf-format-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const reference = JSON.parse(readFileSync(resolve(GGUF_FIXTURES, 'dequant-reference.json'), 'utf8')) as {
  types: Record<string, { bytes: string; values: number[] }>;
};

describe('dequantization matches gguf-py (llama.cpp) bit for bit', () => {
  test.each(['Q8_0', 'Q4_0', 'Q4_K', 'Q6_K'] as const)('%s', (name) => {
    const { bytes, values } = reference.types[name];
    const data = new Uint8Array(Buffer.from(bytes, 'base64'));
    const out = dequantize(GgmlType[name], data, values.length);
    expect(out.length).toBe(values.length);
    expect(new Set(values).size).toBeGreaterThan(8); // the reference is not degenerate
    for (let i = 0; i < values.length; i++) expect(out[i]).toBe(Math.fround(values[i]));
  });

  test('a wrong byte count is refused', () => {
    expect(() => dequantize(GgmlType.Q4_K, new Uint8Array(143), 256)).toThrow(/Q4_K: 143 bytes for 256 values, expected 144/);
    expect(() => dequantize(GgmlType.Q8_0, new Uint8Array(34), 31)).toThrow(/not a whole number of Q8_0 blocks of 32/);
  });
});

describe('half precision', () => {
  test('round to nearest even, subnormals, overflow; every half value survives the round trip', () => {
    expect(floatToHalf(1)).toBe(0x3c00);
    expect(floatToHalf(65504)).toBe(0x7bff);
    expect(floatToHalf(65520)).toBe(0x7c00); // rounds up to inf
    expect(floatToHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    expect(floatToHalf(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(floatToHalf(2 ** -24)).toBe(0x0001);
    expect(floatToHalf(-0)).toBe(0x8000);
    for (let h = 0; h < 0x7c00; h++) {
      expect(floatToHalf(halfToFloat(h))).toBe(h);
      expect(floatToHalf(-halfToFloat(h))).toBe(h | 0x8000);
    }
  });
});

describe('writing', () => {
  test("rankwise's Q8_0 tensors are byte-identical to gguf-py's quants.quantize of the same weights", async () => {
    const { model } = await loadHuggingFaceModel(HF_TINY);
    const file = join(dir, 'tiny-q8_0.gguf');
    await saveGgufModel(model, file, { type: 'q8_0', name: 'llama-tiny', tokenizer: tokenizerOf(HF_TINY) });
    model.dispose();
    const ours = await readGgufHeader(file);
    const theirs = await readGgufHeader(resolve(GGUF_FIXTURES, 'llama-tiny-q8_0.gguf'));
    const bytesOf = (header: typeof ours, name: string) => {
      const t = header.tensors.find((x) => x.name === name)!;
      return {
        type: t.type,
        dims: t.dims,
        bytes: readFileSync(header.file).subarray(t.offset, t.offset + (t.type === GgmlType.F32 ? 4 * t.count : (t.count / 32) * 34)),
      };
    };
    expect(ours.tensors.map((t) => t.name).sort()).toEqual(theirs.tensors.map((t) => t.name).sort());
    for (const { name } of theirs.tensors) {
      const a = bytesOf(ours, name);
      const b = bytesOf(theirs, name);
      expect({ name, type: a.type, dims: a.dims }).toEqual({ name, type: b.type, dims: b.dims });
      expect(Buffer.compare(a.bytes, b.bytes), name).toBe(0);
    }
    // same hyperparameters and tokenizer metadata as gguf-py wrote (general.name aside)
    for (const [key, value] of theirs.metadata) {
      if (key === 'general.name' || key === 'general.type') continue;
      expect(ours.metadata.get(key), key).toEqual(value);
    }
  });

  test('metadata and tensors round-trip through writeGguf and GgufReader', async () => {
    const file = join(dir, 'small.gguf');
    const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i));
    await writeGguf(
      file,
      new Map([
        ['general.architecture', gguf.string('test')],
        ['a.list', gguf.i32s([1, -2, 3])],
        ['a.f', gguf.f32(0.5)],
      ]),
      [
        { name: 'x', dims: [32, 2], type: GgmlType.F32, values: async () => values },
        { name: 'y', dims: [64], type: GgmlType.F16, values: async () => values },
      ],
    );
    const reader = await GgufReader.open(file);
    expect(reader.header.metadata.get('a.list')?.value).toEqual([1, -2, 3]);
    expect(reader.header.metadata.get('a.f')?.value).toBe(0.5);
    expect(await reader.read('x')).toEqual(values);
    const y = await reader.read('y');
    for (let i = 0; i < 64; i++) expect(Math.abs(y[i] - values[i])).toBeLessThanOrEqual(2 ** -11);
    await reader.close();
  });
});

describe('validation reads the header and names each defect (file and field)', () => {
  const fixture = resolve(GGUF_FIXTURES, 'llama-tiny-q8_0.gguf');
  const patched = (name: string, patch: (b: Buffer) => void): string => {
    const b = Buffer.from(readFileSync(fixture));
    patch(b);
    const file = join(dir, name);
    writeFileSync(file, b);
    return file;
  };
  /** Replaces the bytes of a string value in the header (same length, so offsets stay). */
  const replace = (b: Buffer, from: string, to: string) => {
    const at = b.indexOf(from);
    expect(at).toBeGreaterThan(0);
    b.write(to, at);
  };

  test('not a GGUF file; an unsupported version', async () => {
    await expect(readGgufHeader(patched('magic.gguf', (b) => b.write('GGML', 0)))).rejects.toThrow(
      /magic\.gguf: \/header\/magic: found "GGML", allowed: "GGUF"/,
    );
    await expect(readGgufHeader(patched('version.gguf', (b) => b.writeUInt32LE(7, 4)))).rejects.toThrow(
      /version\.gguf: \/header\/version: found 7, allowed: 2 or 3/,
    );
  });

  test('a truncated file names where it ends', async () => {
    const file = join(dir, 'short.gguf');
    writeFileSync(file, readFileSync(fixture).subarray(0, 5000));
    await expect(readGgufHeader(file)).rejects.toThrow(
      /short\.gguf: \/metadata\/tokenizer\.ggml\.\w+: found an array of 384 items, allowed: at most the \d+ bytes left/,
    );
  });

  test('unsupported architecture', async () => {
    const check = await checkGgufModel(patched('arch.gguf', (b) => b.write('gemma', b.indexOf('llama', b.indexOf('general.architecture')))));
    expect(check.issues[0]).toMatch(/arch\.gguf: \/metadata\/general\.architecture: found "gemma", allowed: "llama", "qwen2"/);
  });

  test('an unsupported tensor type and data past the end, one line each', async () => {
    // blk.0.attn_q.weight's type field: set it to Q5_K (13)
    const file = patched('type.gguf', (b) => {
      const name = b.indexOf('blk.0.attn_q.weight');
      const typeAt = name + 'blk.0.attn_q.weight'.length + 4 + 2 * 8;
      expect(b.readUInt32LE(typeAt)).toBe(GgmlType.Q8_0);
      b.writeUInt32LE(GgmlType.Q5_K, typeAt);
    });
    const check = await checkGgufModel(file);
    expect(check.config).toBeNull();
    expect(check.issues).toEqual([
      expect.stringMatching(/type\.gguf: \/tensors\/blk\.0\.attn_q\.weight\/type: found Q5_K .*allowed: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K/),
    ]);
    const cut = join(dir, 'cut.gguf');
    writeFileSync(cut, readFileSync(fixture).subarray(0, readFileSync(fixture).length - 100));
    const header = await readGgufHeader(cut);
    expect(tensorIssues(header)).toEqual([
      expect.stringMatching(/cut\.gguf: \/tensors\/output_norm\.weight\/offset: data ends at byte \d+, past the end of the file/),
    ]);
  });

  test('a SentencePiece vocabulary and a missing hyperparameter are named', async () => {
    const file = patched('spm.gguf', (b) => {
      replace(b, 'gpt2', 'none'); // tokenizer.ggml.model
      replace(b, 'llama.block_count', 'llama.block_xxxxx');
    });
    const check = await checkGgufModel(file);
    expect(check.issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/spm\.gguf: \/metadata\/llama\.block_count: missing/),
        expect.stringMatching(/spm\.gguf: \/metadata\/tokenizer\.ggml\.model: found "none", allowed: "gpt2"/),
      ]),
    );
  });
});
