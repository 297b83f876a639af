/**
 * Reuse of float32 output buffers. tfjs disposes tensors explicitly, so a buffer can go back to a
 * per-length free list the moment the last data entry holding it is disposed: no page faults and no
 * zero-filling for the next output of that length (both cost more than the arithmetic of an
 * element-wise kernel). Only buffers allocated here are ever reused, and only once no data entry
 * holds them or a view of them (tfjs's cpu Slice returns subarray views); reads hand out copies,
 * so arrays returned by `data()` stay valid forever.
 *
 * A buffer the pool does not keep (over its byte limit, or dropped by `clear`) is handed to `discard`, when given: the
 * native backend detaches it there, which returns its memory at once rather than at the next garbage collection (a
 * KV cache growing by one position per step leaves hundreds of MB of such buffers behind between collections).
 */
import { totalmem } from 'node:os';

/** Below this length buffers are tracked (for in-place updates) but not reused: allocation is cheap. */
const MIN_POOLED_LENGTH = 1024;

interface Entry {
  array: Float32Array;
  /** Data entries holding the buffer (through the array itself or a view of it). */
  holders: number;
}

function uninitialized(length: number): Float32Array {
  // allocUnsafeSlow: a dedicated ArrayBuffer of exactly length * 4 bytes, not zero-filled.
  const bytes = Buffer.allocUnsafeSlow(length * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, length);
}

export function defaultPoolBytes(env: NodeJS.ProcessEnv = process.env): number {
  const mb = Number(env.RANKWISE_POOL_MB);
  if (env.RANKWISE_POOL_MB && Number.isFinite(mb) && mb >= 0) return mb * 1024 * 1024;
  // 1 GiB: enough for every buffer size a step of W1–W4 reuses; 2 GiB kept W4 full fine-tuning 1 % above PyTorch's peak RSS.
  return Math.min(1024 ** 3, Math.floor(totalmem() / 16));
}

export class Float32Pool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly entries = new WeakMap<ArrayBufferLike, Entry>();
  private pooledBytes = 0;

  constructor(
    private readonly maxPooledBytes: number,
    private readonly discard?: (buffer: ArrayBufferLike) => void,
  ) {}

  /** An output buffer whose every element the caller will write (contents are arbitrary). */
  alloc(length: number): Float32Array {
    const reused = length >= MIN_POOLED_LENGTH ? this.free.get(length)?.pop() : undefined;
    if (reused) this.pooledBytes -= reused.byteLength;
    const array = reused ?? (length >= MIN_POOLED_LENGTH ? uninitialized(length) : new Float32Array(length));
    this.entries.set(array.buffer, { array, holders: 0 });
    return array;
  }

  private entryOf(values: unknown): Entry | undefined {
    return ArrayBuffer.isView(values) ? this.entries.get(values.buffer) : undefined;
  }

  /** True for a pooled buffer or any view of one. */
  owns(values: unknown): values is Float32Array {
    return this.entryOf(values) !== undefined;
  }

  /** True when `values` is a whole pooled buffer held by exactly one data entry. */
  isSoleHolder(values: unknown): boolean {
    const entry = this.entryOf(values);
    return entry !== undefined && entry.array === values && entry.holders === 1;
  }

  retain(values: unknown): void {
    const entry = this.entryOf(values);
    if (entry) entry.holders += 1;
  }

  release(values: unknown): void {
    const entry = this.entryOf(values);
    if (!entry) return;
    entry.holders -= 1;
    if (entry.holders > 0) return;
    const { array } = entry;
    if (array.length < MIN_POOLED_LENGTH || this.pooledBytes + array.byteLength > this.maxPooledBytes) {
      this.entries.delete(array.buffer);
      if (array.length >= MIN_POOLED_LENGTH) this.discard?.(array.buffer); // else left to the garbage collector
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

  /**
   * Drops `values`' buffer from the free list and discards it, if it lies there (no data entry holds it any more): for
   * memory the caller knows will not come back in this size soon (a KV cache block that grew).
   */
  drop(values: unknown): void {
    const entry = this.entryOf(values);
    if (!entry || entry.holders > 0) return;
    const list = this.free.get(entry.array.length);
    const at = list ? list.indexOf(entry.array) : -1;
    if (at < 0) return;
    list!.splice(at, 1);
    this.pooledBytes -= entry.array.byteLength;
    this.entries.delete(entry.array.buffer);
    this.discard?.(entry.array.buffer);
  }

  clear(): void {
    if (this.discard) for (const list of this.free.values()) for (const array of list) this.discard(array.buffer);
    this.free.clear();
    this.pooledBytes = 0;
  }
}
