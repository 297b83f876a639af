import { describe, expect, test } from 'vitest';
import { decodeSafetensors, encodeSafetensors, halfToFloat, MAX_HEADER_BYTES, SafetensorsError } from '@rankwise/formats';

/** Builds a file from a raw header object and a data buffer, to craft malformed files. */
function craft(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

const decodeError = (bytes: Uint8Array): string => {
  try {
    decodeSafetensors(bytes, 'bad.safetensors');
  } catch (error) {
    expect(error).toBeInstanceOf(SafetensorsError);
    return (error as Error).message;
  }
  throw new Error('expected a SafetensorsError');
};

describe('safetensors', () => {
  test('round trip is exact, metadata kept, header 8-byte aligned', () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3 + 1e-7 * i);
    const b = new Float32Array([Number.MAX_VALUE, -0, 1e-45, Infinity]);
    const bytes = encodeSafetensors(
      [
        { name: 'w', shape: [3, 4], data: a },
        { name: 'odd', shape: [4], data: b },
      ],
      { producer: 'test' },
    );
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const decoded = decodeSafetensors(bytes);
    expect(decoded.metadata).toEqual({ producer: 'test' });
    expect(decoded.tensors.get('w')!.shape).toEqual([3, 4]);
    expect([...decoded.tensors.get('w')!.data]).toEqual([...a]);
    expect(Object.is(decoded.tensors.get('odd')!.data[1], -0)).toBe(true);
    expect([...decoded.tensors.get('odd')!.data]).toEqual([...b]);
  });

  test('decodes from a Node Buffer that is a view into a larger pool (byteOffset ≠ 0)', () => {
    const data = Float32Array.from([1.5, -2.25, 3]);
    const bytes = encodeSafetensors([{ name: 'v', shape: [3], data }]);
    const pool = Buffer.alloc(bytes.length + 13);
    pool.set(bytes, 13);
    const view = pool.subarray(13);
    expect([...decodeSafetensors(view).tensors.get('v')!.data]).toEqual([1.5, -2.25, 3]);
  });

  test('reads F16 and BF16 (incl. subnormals, infinities)', () => {
    // F16: 1.0 = 0x3c00, -2.0 = 0xc000, smallest subnormal 0x0001 = 2^-24, +inf 0x7c00
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]);
    // BF16: upper halves of float32 bit patterns of 1.0 (0x3f80), -3.5 (0xc060)
    const bf16 = new Uint16Array([0x3f80, 0xc060]);
    const data = new Uint8Array(12);
    data.set(new Uint8Array(f16.buffer), 0);
    data.set(new Uint8Array(bf16.buffer), 8);
    const bytes = craft({ h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] }, b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] } }, data);
    const decoded = decodeSafetensors(bytes);
    expect([...decoded.tensors.get('h')!.data]).toEqual([1, -2, 2 ** -24, Infinity]);
    expect([...decoded.tensors.get('b')!.data]).toEqual([1, -3.5]);
    expect(halfToFloat(0x7e00)).toBeNaN();
  });

  const f32 = (n: number) => new Uint8Array(4 * n);
  const cases: Array<[string, Uint8Array, string]> = [
    ['truncated before the length', new Uint8Array(5), 'truncated: 5 bytes'],
    [
      'header length past end',
      (() => {
        const b = craft({});
        new DataView(b.buffer).setBigUint64(0, 1000n, true);
        return b;
      })(),
      'header length 1000 runs past the end of the file (2 bytes follow the length)',
    ],
    [
      'huge header length',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true);
        return b;
      })(),
      `exceeds the limit of ${MAX_HEADER_BYTES} bytes`,
    ],
    [
      '64-bit header length, printed exactly',
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 2n ** 60n + 1n, true);
        return b;
      })(),
      'header length 1152921504606846977 exceeds',
    ],
    [
      'every unreadable dtype at once',
      craft(
        {
          a: { dtype: 'I64', shape: [1], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] },
          c: { dtype: 'Q4', shape: [1], data_offsets: [12, 16] },
          d: { dtype: 'U8', shape: [4], data_offsets: [16, 20] },
        },
        f32(5),
      ),
      '3 tensors have dtypes rankwise does not read: "a" "I64", "c" "Q4", "d" "U8"; readable: F32, F16, BF16',
    ],
    ['non-JSON header', craft(null, new Uint8Array(0), '{"a": [1, 2'), 'header is not valid UTF-8 JSON'],
    ['header not an object', craft([1, 2]), 'header must be a JSON object'],
    ['unknown dtype', craft({ t: { dtype: 'Q4', shape: [1], data_offsets: [0, 4] } }, f32(1)), 'tensor "t": unknown dtype "Q4"; readable: F32, F16, BF16'],
    ['known but unread dtype', craft({ t: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, f32(2)), 'tensor "t": dtype I64 is not a float weight type'],
    [
      'shape/size mismatch',
      craft({ t: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 20] } }, f32(5)),
      'tensor "t": shape [2, 3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20',
    ],
    [
      'offsets out of range',
      craft({ t: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, f32(2)),
      'tensor "t": data_offsets [0, 16] out of range: the data buffer has 8 bytes',
    ],
    ['offsets reversed', craft({ t: { dtype: 'F32', shape: [0], data_offsets: [8, 4] } }, f32(2)), 'begin after end'],
    [
      'overlapping offsets',
      craft(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
        },
        f32(3),
      ),
      'tensor "b": data_offsets [4, 12] overlap tensor "a" [0, 8]',
    ],
    ['hole in the buffer', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, f32(2)), 'bytes [0, 4) of the data buffer belong to no tensor'],
    ['trailing bytes', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, f32(3)), 'the data buffer has 12 bytes but the tensors cover only 4'],
    ['bad shape', craft({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, f32(1)), 'shape must be an array of non-negative integers, found [-1]'],
    ['bad offsets', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0] } }, f32(1)), 'data_offsets must be [begin, end] non-negative integers'],
    ['unknown entry key', craft({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4], extra: 1 } }, f32(1)), 'unknown entry keys extra'],
    ['metadata not strings', craft({ __metadata__: { n: 1 } }), '"__metadata__"."n" must be a string, found 1'],
  ];

  test.each(cases)('%s gives its own clear error', (_name, bytes, message) => {
    const text = decodeError(bytes);
    expect(text.startsWith('bad.safetensors: ')).toBe(true);
    expect(text).toContain(message);
  });

  test('a huge claimed shape fails on the size check before any allocation', () => {
    const bytes = craft({ t: { dtype: 'F32', shape: [2 ** 26, 2 ** 26], data_offsets: [0, 4] } }, f32(1));
    expect(decodeError(bytes)).toContain('needs 18014398509481984 bytes');
  });
});
