/**
 * A fast reader for the mnist package's digit files (`{ "data": [0,0.2,0.624,…] }`): scans the bytes
 * of the first JSON array of plain non-negative decimals straight into a Float32Array, about twice as
 * fast as JSON.parse plus a copy. Values equal JSON.parse's exactly (each number is formed as an exact
 * integer divided by an exact power of ten: one correctly rounded division, as parseFloat does).
 * Anything else (signs, exponents, more than 15 digits, other syntax) returns null and the caller
 * falls back to JSON.parse.
 */
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
const COMMA = 0x2c;
const CLOSE = 0x5d;
const DOT = 0x2e;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function scanNumberArray(bytes: Uint8Array): Float32Array | null {
  let i = bytes.indexOf(0x5b); // '['
  if (i < 0) return null;
  i++;
  // Each number takes at least two bytes ("0,"), so this bounds the count.
  const out = new Float32Array(Math.ceil(bytes.length / 2));
  let n = 0;
  let expectValue = true;
  while (i < bytes.length) {
    let c = bytes[i];
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (c === CLOSE) return out.slice(0, n);
    if (c === COMMA) {
      if (expectValue) return null;
      expectValue = true;
      i++;
      continue;
    }
    if (!expectValue || !isDigit(c)) return null;
    let mantissa = 0;
    let digits = 0;
    let decimals = 0;
    while (isDigit(c)) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      c = bytes[++i];
    }
    if (c === DOT) {
      c = bytes[++i];
      if (!isDigit(c)) return null;
      while (isDigit(c)) {
        mantissa = mantissa * 10 + (c - 0x30);
        digits++;
        decimals++;
        c = bytes[++i];
      }
    }
    if (digits > 15) return null; // the mantissa might not be exact any more
    if (c !== COMMA && c !== CLOSE && !isSpace(c)) return null;
    out[n++] = decimals === 0 ? mantissa : mantissa / POW10[decimals];
    expectValue = false;
  }
  return null;
}
