/** Bitwise equality of typed arrays (vitest's toEqual is far too slow for millions of elements). */
export function sameArray(a: ArrayBufferView & { length: number }, b: ArrayBufferView & { length: number }): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const bytes = (v: ArrayBufferView) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return bytes(a).equals(bytes(b));
}
