/**
 * A small byte-level BPE trainer that writes a Hugging Face tokenizer.json (the GPT-2 / Qwen2 layout: ByteLevel
 * pre-tokenizer with the GPT-2 regex, BPE model, ByteLevel decoder, special tokens as added tokens). Python's
 * `tokenizers` is not installed here, so rankwise's fixtures and examples train theirs with this: deterministic (the
 * most frequent pair wins, ties broken by the pair's text), so the same corpus gives the same file.
 *
 * Ids: 0–255 are the bytes (as GPT-2's bytes_to_unicode characters, in byte order), then one id per merge, then the
 * special tokens.
 */

/** GPT-2's pre-tokenizer regex (tokenizers' ByteLevel with use_regex). */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode: printable bytes stand for themselves, the others map to U+0100 upwards. */
export function bytesToUnicode(): string[] {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  const out: string[] = [];
  let next = 0;
  for (let b = 0; b < 256; b++) out.push(printable(b) ? String.fromCharCode(b) : String.fromCharCode(256 + next++));
  return out;
}

export interface BpeOptions {
  /** Merges to learn (the vocabulary is 256 + merges + special tokens). */
  merges: number;
  /** Special tokens, in id order after the merges. */
  specialTokens: string[];
  /** Never merge pieces that hold a digit (every digit stays one token, as Llama 3 and Qwen2 split numbers). */
  splitDigits?: boolean;
  /** Pairs seen fewer times are never merged. */
  minFrequency?: number;
}

export interface TokenizerJson {
  [key: string]: unknown;
  model: { vocab: Record<string, number>; merges: Array<[string, string]> };
  added_tokens: Array<{ id: number; content: string }>;
}

export function trainBpe(corpus: readonly string[], options: BpeOptions): TokenizerJson {
  const byteChar = bytesToUnicode();
  const encoder = new TextEncoder();
  const specials = new Set(options.specialTokens);
  const counts = new Map<string, number>();
  for (const doc of corpus) {
    // special tokens are never part of a word (the tokenizer splits them out first)
    const parts =
      options.specialTokens.length > 0
        ? doc.split(new RegExp(`(${options.specialTokens.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})`))
        : [doc];
    for (const part of parts) {
      if (specials.has(part)) continue;
      for (const match of part.matchAll(GPT2_PATTERN)) {
        const word = Array.from(encoder.encode(match[0]), (b) => byteChar[b]).join('');
        counts.set(word, (counts.get(word) ?? 0) + 1);
      }
    }
  }
  const words = [...counts.entries()].map(([word, count]) => ({ pieces: [...word], count }));
  const vocab: Record<string, number> = {};
  byteChar.forEach((ch, b) => (vocab[ch] = b));
  const merges: Array<[string, string]> = [];
  const hasDigit = (s: string) => /[0-9]/.test(s);
  while (merges.length < options.merges) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.pieces.length; i++) {
        const [a, b] = [w.pieces[i], w.pieces[i + 1]];
        if (options.splitDigits && (hasDigit(a) || hasDigit(b))) continue;
        const key = `${a}\u0000${b}`;
        pairs.set(key, (pairs.get(key) ?? 0) + w.count);
      }
    }
    let best: string | null = null;
    let bestCount = 0;
    for (const [key, count] of pairs) if (count > bestCount || (count === bestCount && best !== null && key < best)) [best, bestCount] = [key, count];
    if (best === null || bestCount < (options.minFrequency ?? 2)) break;
    const [a, b] = best.split('\u0000');
    const merged = a + b;
    if (merged in vocab) break;
    merges.push([a, b]);
    vocab[merged] = 256 + merges.length - 1;
    for (const w of words) {
      for (let i = 0; i + 1 < w.pieces.length; i++) {
        if (w.pieces[i] === a && w.pieces[i + 1] === b) w.pieces.splice(i, 2, merged);
      }
    }
  }
  const first = 256 + merges.length;
  const added = options.specialTokens.map((content, i) => ({
    id: first + i,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
}
