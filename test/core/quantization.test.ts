import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { DYNAMIC_CODE, dequantizeWeight, NF4_CODE, quantizeBf16, quantizeInt8Rows, quantizeNf4, quantizeWeight } from '@rankwise/models';

/**
 * The reference: scripts/quant-reference/make_nf4_reference.py (bitsandbytes' NF4 double quantization, int8 row-wise
 * absmax and bfloat16, re-implemented in PyTorch from bitsandbytes' sources), run once; its output is committed.
 */
type Stored = Float32Array | Uint8Array | Int8Array;
function readReference(): Map<string, { shape: number[]; data: Stored }> {
  const bytes = readFileSync('test/fixtures/quant/reference.safetensors');
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, { shape: number[]; data: Stored }>();
  for (const [
    name,
    {
      dtype,
      shape,
      data_offsets: [begin, end],
    },
  ] of Object.entries(header)) {
    const raw = bytes.subarray(8 + headerLength + begin, 8 + headerLength + end);
    const copy = new Uint8Array(raw).buffer;
    out.set(name, { shape, data: dtype === 'F32' ? new Float32Array(copy) : dtype === 'I8' ? new Int8Array(copy) : new Uint8Array(copy) });
  }
  return out;
}

const reference = readReference();
const get = <T extends Stored>(name: string): T => {
  const t = reference.get(name);
  if (!t) throw new Error(`reference has no ${name}`);
  return t.data as T;
};
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
/** The spacing of float32 values at x. */
const ulp = (x: number) => 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
const shapeOf = (name: string) => reference.get(name)!.shape as [number, number];

describe('NF4 with double quantization, against the bitsandbytes re-implementation', () => {
  test("the NF4 code values and the 8-bit dynamic map are bitsandbytes' to the bit", () => {
    expect(bitsOf(NF4_CODE)).toEqual(bitsOf(get<Float32Array>('nf4_code')));
    expect(bitsOf(DYNAMIC_CODE)).toEqual(bitsOf(get<Float32Array>('dynamic_code')));
  });

  for (const name of ['a', 'b']) {
    test(`weight ${name} [${shapeOf(`${name}.weight`)}]: every 4-bit code, first-level absmax, offset, 8-bit absmax code, second-level absmax and dequantized value bit for bit`, () => {
      const w = get<Float32Array>(`${name}.weight`);
      const [rows, cols] = shapeOf(`${name}.weight`);
      // The offset is torch's float32 mean of the absmax values, whose last bit depends on torch's summation order
      // (SIMD width, CPU or CUDA); ours is the exactly rounded mean: within one unit in the last place of torch's.
      const torchOffset = get<Float32Array>(`${name}.nf4.offset`)[0];
      const own = quantizeNf4(w, rows, cols);
      expect(Math.abs(own.offset - torchOffset)).toBeLessThanOrEqual(ulp(torchOffset));
      // Given torch's offset, everything is bitsandbytes' to the bit.
      const q = quantizeNf4(w, rows, cols, { offset: torchOffset });
      expect(q.packed).toEqual(get<Uint8Array>(`${name}.nf4.packed`));
      expect(own.packed).toEqual(q.packed); // the 4-bit codes never depend on the offset
      expect(bitsOf(q.absmax)).toEqual(bitsOf(get<Float32Array>(`${name}.nf4.absmax`)));
      expect(q.offset).toBe(torchOffset);
      expect(q.qabsmax).toEqual(get<Uint8Array>(`${name}.nf4.qabsmax`));
      expect(bitsOf(q.absmax2)).toEqual(bitsOf(get<Float32Array>(`${name}.nf4.absmax2`)));
      const { absmax: _absmax, ...stored } = q;
      expect(bitsOf(dequantizeWeight(stored))).toEqual(bitsOf(get<Float32Array>(`${name}.nf4.dequantized`)));
      expect(quantizeWeight('nf4', w, rows, cols)).not.toHaveProperty('absmax'); // only the double-quantized statistics are kept
      // With our own offset: the dequantized values differ from torch-offset ones by at most a few float32 ulps of the block scale.
      const ours = dequantizeWeight(quantizeWeight('nf4', w, rows, cols));
      const theirs = get<Float32Array>(`${name}.nf4.dequantized`);
      let worst = 0;
      for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]) / Math.max(Math.abs(theirs[i]), 1e-30));
      expect(worst).toBeLessThan(1e-6);
    });

    test(`weight ${name}: int8 absmax per row and bfloat16, codes and dequantized values bit for bit`, () => {
      const w = get<Float32Array>(`${name}.weight`);
      const [rows, cols] = shapeOf(`${name}.weight`);
      const int8 = quantizeInt8Rows(w, rows, cols);
      expect(int8.codes).toEqual(get<Int8Array>(`${name}.int8.codes`));
      expect(bitsOf(int8.rowStats)).toEqual(bitsOf(get<Float32Array>(`${name}.int8.row_stats`)));
      expect(bitsOf(dequantizeWeight(int8))).toEqual(bitsOf(get<Float32Array>(`${name}.int8.dequantized`)));
      expect(bitsOf(dequantizeWeight(quantizeBf16(w, rows, cols)))).toEqual(bitsOf(get<Float32Array>(`${name}.bf16.dequantized`)));
    });
  }

  test('the fixture covers the edge cases: a zero block, a constant block, a partial last block, an odd count, several absmax blocks', () => {
    const q = quantizeNf4(get<Float32Array>('a.weight'), 128, 192);
    expect(q.absmax.length).toBe(384); // 2 blocks of 256 absmax values, the second partial
    expect(q.absmax2.length).toBe(2);
    expect(q.absmax[(3 * 192) / 64]).toBe(0); // row 3's first block is all zeros…
    expect(q.packed[(3 * 192) / 2]).toBe(0x77); // …at NF4's zero (code 7)
    expect(q.packed[(20 * 192 + 64) / 2]).toBe(0xff); // row 20's second block is constant: every value at +1 (code 15)
    const b = quantizeNf4(get<Float32Array>('b.weight'), 5, 27);
    expect(b.packed.length).toBe(68); // 135 codes, padded to 136
    expect(b.absmax.length).toBe(3); // 64 + 64 + 7
  });

  test("the error is NF4's: mean |W − deq(W)| / mean |W| about 0.09 on normal weights (the check can fail)", () => {
    const w = get<Float32Array>('a.weight');
    const deq = dequantizeWeight(quantizeWeight('nf4', w, 128, 192));
    let err = 0;
    let mag = 0;
    for (let i = 0; i < w.length; i++) {
      err += Math.abs(deq[i] - w[i]);
      mag += Math.abs(w[i]);
    }
    expect(err / mag).toBeGreaterThan(0.05);
    expect(err / mag).toBeLessThan(0.12);
  });
});
