import { expect } from 'vitest';
import type { Matrix } from '@rankwise/report';
import { gaussian, seeded } from './fixtures.js';

/** n × k matrix with orthonormal columns: Gram–Schmidt (twice) of seeded Gaussian columns. */
export function randomOrthonormal(n: number, k: number, seed: number): Matrix {
  const g = gaussian(seeded(seed));
  const cols: Float64Array[] = [];
  while (cols.length < k) {
    const x = Float64Array.from({ length: n }, g);
    for (let pass = 0; pass < 2; pass++) {
      for (const c of cols) {
        let d = 0;
        for (let i = 0; i < n; i++) d += x[i] * c[i];
        for (let i = 0; i < n; i++) x[i] -= d * c[i];
      }
    }
    const norm = Math.hypot(...x);
    cols.push(x.map((v) => v / norm));
  }
  const data = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) data[i * k + j] = cols[j][i];
  return { rows: n, cols: k, data };
}

/** U · diag(s) · Vᵀ for U: m × k, V: n × k. */
export function compose(u: Matrix, s: ArrayLike<number>, v: Matrix): Matrix {
  const m = u.rows;
  const n = v.rows;
  const data = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let q = 0; q < s.length; q++) {
      const uiq = u.data[i * u.cols + q] * s[q];
      if (uiq === 0) continue;
      for (let j = 0; j < n; j++) data[i * n + j] += uiq * v.data[j * v.cols + q];
    }
  }
  return { rows: m, cols: n, data };
}

/** M = U·diag(s)·Vᵀ with seeded random orthonormal U (m × k), V (n × k), k = s.length. */
export function known(m: number, n: number, s: number[], seed: number): Matrix {
  return compose(randomOrthonormal(m, s.length, seed), s, randomOrthonormal(n, s.length, seed + 1));
}

/** ‖a − b‖_F / ‖b‖_F. */
export function relativeFrobeniusError(a: Matrix, b: Matrix): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < b.data.length; i++) {
    diff += (a.data[i] - b.data[i]) ** 2;
    norm += b.data[i] ** 2;
  }
  return Math.sqrt(diff / norm);
}

/** max |(QᵀQ − I)_ij|. */
export function orthonormalityError(q: Matrix): number {
  let worst = 0;
  for (let a = 0; a < q.cols; a++) {
    for (let b = a; b < q.cols; b++) {
      let d = 0;
      for (let i = 0; i < q.rows; i++) d += q.data[i * q.cols + a] * q.data[i * q.cols + b];
      worst = Math.max(worst, Math.abs(d - (a === b ? 1 : 0)));
    }
  }
  return worst;
}

/**
 * A tiny well-formedness check: every tag closes in order, attributes are quoted, and the document is one root
 * element of the given name. Enough to catch broken markup (not a validating parser).
 */
export function expectWellFormedXml(xml: string, root: string): void {
  const body = xml.trim().replace(/^<\?xml[^>]*\?>\s*/, '');
  expect(body.startsWith(`<${root}`)).toBe(true);
  expect(body.endsWith(`</${root}>`)).toBe(true);
  const stack: string[] = [];
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>|<!--[\s\S]*?-->/g;
  let last = 0;
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    expect(between.includes('<'), `stray "<" before offset ${m.index}: ${between.slice(0, 80)}`).toBe(false);
    last = tag.lastIndex;
    if (m[0].startsWith('<!--')) continue;
    const [, closing, name, , selfClosing] = m;
    if (closing) {
      expect(stack.pop(), `closing </${name}> at ${m.index}`).toBe(name);
    } else if (!selfClosing) {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) roots++;
  }
  expect(body.slice(last).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

/** The text content of every <text> element (and each line of multi-line ones, in <tspan>s), unescaped. */
export function svgTexts(svg: string): string[] {
  return [...svg.matchAll(/<(text|tspan)\b[^>]*>([^<]+)</g)].map((m) => unescapeXml(m[2]));
}

export function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
