/**
 * Reuse of float32 output buffers. tfjs disposes tensors explicitly, so a buffer can go back to a
 * per-length free list the moment the last data entry holding it is disposed: no page faults and no
 * zero-filling for the next output of that length (both cost more than the arithmetic of an
 * element-wise kernel). Only buffers allocated here are ever reused, and only once no data entry
 * holds them; reads hand out copies of them, so arrays returned by `data()` stay valid forever.
 */
import { totalmem } from 'node:os';

/** Below this length buffers are tracked (for in-place updates) but not reused: allocation is cheap. */
const MIN_POOLED_LENGTH = 1024;

function uninitialized(length: number): Float32Array {
  // allocUnsafeSlow: a dedicated ArrayBuffer of exactly length * 4 bytes, not zero-filled.
  const bytes = Buffer.allocUnsafeSlow(length * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, length);
}

export function defaultPoolBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.RANKWISE_POOL_MB);
  if (Number.isFinite(mb) && mb >= 0) return mb * 1024 * 1024;
  return Math.min(2 * 1024 ** 3, Math.floor(totalmem() / 8));
}

export class Float32Pool {
  private readonly free = new Map<number, Float32Array[]>();
  /** Buffers allocated here → number of data entries holding them (0 while being filled or free). */
  private readonly holders = new WeakMap<Float32Array, number>();
  private pooledBytes = 0;

  constructor(private readonly maxPooledBytes: number) {}

  /** An output buffer whose every element the caller will write (contents are arbitrary). */
  alloc(length: number): Float32Array {
    if (length < MIN_POOLED_LENGTH) {
      const small = new Float32Array(length);
      this.holders.set(small, 0);
      return small;
    }
    const reused = this.free.get(length)?.pop();
    if (reused) {
      this.pooledBytes -= length * 4;
      this.holders.set(reused, 0);
      return reused;
    }
    const array = uninitialized(length);
    this.holders.set(array, 0);
    return array;
  }

  owns(values: unknown): values is Float32Array {
    return values instanceof Float32Array && this.holders.has(values);
  }

  /** Number of data entries holding a pooled buffer (undefined for other arrays). */
  holderCount(values: unknown): number | undefined {
    return values instanceof Float32Array ? this.holders.get(values) : undefined;
  }

  retain(values: unknown): void {
    const count = this.holderCount(values);
    if (count !== undefined) this.holders.set(values as Float32Array, count + 1);
  }

  release(values: unknown): void {
    const count = this.holderCount(values);
    if (count === undefined) return;
    const array = values as Float32Array;
    if (count > 1) {
      this.holders.set(array, count - 1);
      return;
    }
    this.holders.set(array, 0);
    if (array.length < MIN_POOLED_LENGTH || this.pooledBytes + array.byteLength > this.maxPooledBytes) {
      this.holders.delete(array); // left to the garbage collector
      return;
    }
    let list = this.free.get(array.length);
    if (!list) {
      list = [];
      this.free.set(array.length, list);
    }
    list.push(array);
    this.pooledBytes += array.byteLength;
  }

  clear(): void {
    this.free.clear();
    this.pooledBytes = 0;
  }

  get bytes(): number {
    return this.pooledBytes;
  }
}
