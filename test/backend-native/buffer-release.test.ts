/**
 * Memory the native backend gives back at once: the buffer pool discards what it does not keep (over its limit, on
 * clear, on drop), the addon's releaseBuffer detaches an ArrayBuffer (its memory is freed without waiting for the
 * garbage collector), and disposeAndRelease frees a disposed tensor's buffer unless another tensor still holds it.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { Float32Pool } from '../../packages/backend-native/src/buffer-pool.js';
import type { NativeBackend } from '../../packages/backend-native/src/backend.js';
import { KvCache } from '../../packages/models/src/kv-cache.js';
import { native, randomArray, skipReason } from './helpers.js';

describe('Float32Pool discards what it does not keep', () => {
  const big = 4096;

  test('over the byte limit, on clear and on drop; never a buffer a data entry still holds', () => {
    const discarded: ArrayBufferLike[] = [];
    const pool = new Float32Pool(big * 4, (buffer) => discarded.push(buffer));
    const a = pool.alloc(big);
    const b = pool.alloc(big);
    pool.retain(a);
    pool.retain(b);
    pool.release(a); // kept: the limit holds one
    expect(discarded).toEqual([]);
    pool.release(b); // over the limit: discarded
    expect(discarded).toEqual([b.buffer]);
    expect(pool.alloc(big)).toBe(a); // reused from the free list

    const c = pool.alloc(2 * big);
    pool.retain(c);
    const view = c.subarray(10, 20); // a second data entry holding the buffer through a view
    pool.retain(view);
    pool.release(c);
    pool.drop(c); // still held by the view
    expect(discarded).toEqual([b.buffer]);
    pool.release(view); // over the limit (a is out of the list, but 2·big > limit): discarded
    expect(discarded).toEqual([b.buffer, c.buffer]);

    const d = pool.alloc(big);
    pool.retain(d);
    pool.release(d); // in the free list
    pool.drop(d);
    expect(discarded).toEqual([b.buffer, c.buffer, d.buffer]);
    expect(pool.alloc(big)).not.toBe(d); // no longer offered

    const e = pool.alloc(big);
    pool.retain(e);
    pool.release(e);
    pool.clear();
    expect(discarded.at(-1)).toBe(e.buffer);
  });

  test('small buffers are left to the garbage collector', () => {
    const discarded: ArrayBufferLike[] = [];
    const pool = new Float32Pool(0, (buffer) => discarded.push(buffer));
    const small = pool.alloc(16);
    pool.retain(small);
    pool.release(small);
    expect(discarded).toEqual([]);
  });
});

describe.skipIf(!native.ok)(`native disposeAndRelease ${skipReason}`, () => {
  beforeAll(async () => {
    await tf.setBackend('native');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  const valuesOf = (t: tf.Tensor): Float32Array => (tf.backend() as NativeBackend).readSync(t.dataId) as Float32Array;
  const storedValues = (t: tf.Tensor): Float32Array =>
    (tf.backend() as unknown as { data: { get(id: object): { values: Float32Array } } }).data.get(t.dataId).values;

  test("frees a disposed tensor's buffer now, keeps one a clone still holds", () => {
    const before = tf.memory().numTensors;
    const x = tf.tensor1d(randomArray(8192, 1));
    const y = x.add(1); // a pooled output buffer
    const stored = storedValues(y);
    expect(stored.length).toBe(8192);
    (tf.backend() as NativeBackend).disposeAndRelease([y]);
    expect(y.isDisposed).toBe(true);
    expect(stored.length).toBe(0); // detached: the memory went back
    expect(stored.buffer.byteLength).toBe(0);

    const z = x.mul(2);
    const twin = z.clone(); // shares z's buffer
    const expected = Float32Array.from(valuesOf(x), (v) => v * 2);
    (tf.backend() as NativeBackend).disposeAndRelease([z]);
    expect(Array.from(valuesOf(twin))).toEqual(Array.from(expected));
    twin.dispose();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  test('a KV cache growing over many steps keeps no dead block memory and leaks no tensor', () => {
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    const cache = new KvCache(2, 1);
    const width = 2 * 3 * 16; // B · heads · hd floats per position
    const k0 = tf.tensor4d(randomArray(width * 8, 2), [2, 3, 8, 16]);
    const v0 = tf.tensor4d(randomArray(width * 8, 3), [2, 3, 8, 16]);
    const all: Float32Array[] = [valuesOf(k0)];
    cache.begin(8);
    cache.append(0, k0, v0);
    cache.end();
    k0.dispose();
    v0.dispose();
    let blocks: Array<{ k: tf.Tensor; v: tf.Tensor }> = [];
    let detached = 0;
    for (let step = 0; step < 80; step++) {
      // the tail block of the last step (from 11 positions on, a pooled buffer): replaced by a longer one now
      const tail = blocks.length === 2 && (blocks[1].k.shape[2] as number) > 11 ? storedValues(blocks[1].k) : null;
      const k = tf.tensor4d(randomArray(width, 10 + step), [2, 3, 1, 16]);
      const v = tf.tensor4d(randomArray(width, 200 + step), [2, 3, 1, 16]);
      all.push(valuesOf(k));
      cache.begin(1);
      blocks = cache.append(0, k, v);
      cache.end();
      k.dispose();
      v.dispose();
      if (tail) {
        expect(tail.length).toBe(0); // its memory was returned at once
        detached += 1;
      }
    }
    expect(detached).toBeGreaterThan(40);
    // the cached keys are every appended key, in order, along the time axis
    const joined = tf.concat(
      blocks.map((b) => b.k),
      2,
    );
    const got = valuesOf(joined);
    joined.dispose();
    for (let b = 0; b < 2; b++) {
      for (let h = 0; h < 3; h++) {
        let position = 0;
        for (const part of all) {
          const length = part.length / width;
          for (let p = 0; p < length; p++) {
            for (let d = 0; d < 16; d++) {
              expect(got[((b * 3 + h) * 88 + position) * 16 + d]).toBe(part[((b * 3 + h) * length + p) * 16 + d]);
            }
            position += 1;
          }
        }
      }
    }
    // live tensor bytes: exactly the cache (88 positions of k and v), nothing of the blocks it replaced
    expect(tf.memory().numBytes - bytesBefore).toBe(2 * 88 * width * 4);
    cache.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
