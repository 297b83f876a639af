/** Something that turns text into ids (a rankwise Vocabulary or tokenizer). */
export interface Encoder {
  encode(text: string): Int32Array;
}

function commonPrefix(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * The token index of a character boundary `at` in `text`, whose tokens are `ids`, as transformers' `char_to_token`
 * sees it: the index of the token holding character `at` (a boundary between tokens gives the token after it).
 * Found without offsets (tokenizers.js gives none): `text[0, at)` is encoded, and the tokens it shares with `ids`
 * end at the boundary, or just before the token that straddles it. `end` rounds a straddling token in (the token
 * holding character at − 1, as transformers' `char_to_token(end − 1) + 1`). Exact when the boundary lies between
 * pre-tokens (special tokens, whitespace, the template's own text: where chat templates put turns), which is where
 * every assistant span of the fixture templates starts and ends.
 */
export function tokenBoundary(encoder: Encoder, text: string, ids: Int32Array, at: number, side: 'start' | 'end'): number {
  if (at <= 0) return 0;
  if (at >= text.length) return ids.length;
  const prefix = encoder.encode(text.slice(0, at));
  const shared = commonPrefix(prefix, ids);
  if (shared === prefix.length) return shared; // the boundary falls between two tokens
  return side === 'end' ? Math.min(ids.length, shared + 1) : shared;
}

/** ids of `text` and a mask (1 on the tokens of the spans, transformers' assistant_masks). */
export function maskSpans(encoder: Encoder, text: string, spans: ReadonlyArray<readonly [number, number]>): { ids: Int32Array; mask: Uint8Array } {
  const ids = encoder.encode(text);
  const mask = new Uint8Array(ids.length);
  for (const [start, end] of spans) {
    const from = tokenBoundary(encoder, text, ids, start, 'start');
    const to = tokenBoundary(encoder, text, ids, end, 'end');
    mask.fill(1, from, to);
  }
  return { ids, mask };
}
