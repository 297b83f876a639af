/**
 * A character vocabulary. Characters are Unicode code points (a surrogate pair is one character).
 * id 0 is the unknown token '<unk>'; the known characters follow in `chars` order (id = index + 1).
 * `build` sorts them by code point. Encoding never fails: unknown characters become 0.
 */
import { requireInteger } from '../validate.js';

export const UNKNOWN_TOKEN = '<unk>';
/** What decode() writes for id 0. */
export const REPLACEMENT_CHARACTER = '\uFFFD';

export interface CharVocabJson {
  type: 'char';
  unknown: '<unk>';
  /** Known characters, one code point each; id = index + 1. */
  chars: string[];
}

/** Calls `visit` with each code point of `text` (lone surrogates are visited as themselves). */
function forEachCodePoint(text: string, visit: (codePoint: number) => void): void {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        visit((unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000);
        i++;
        continue;
      }
    }
    visit(unit);
  }
}

function countCodePoints(text: string): Map<number, number> {
  const bmp = new Float64Array(0x10000);
  const astral = new Map<number, number>();
  forEachCodePoint(text, (cp) => {
    if (cp < 0x10000) bmp[cp]++;
    else astral.set(cp, (astral.get(cp) ?? 0) + 1);
  });
  const counts = new Map<number, number>();
  for (let cp = 0; cp < 0x10000; cp++) if (bmp[cp] > 0) counts.set(cp, bmp[cp]);
  for (const [cp, count] of astral) counts.set(cp, count);
  return counts;
}

export class CharVocab {
  /** Known characters (ids 1..size-1). */
  readonly chars: readonly string[];
  /** chars.length + 1 (the unknown token). */
  readonly size: number;
  private readonly bmpIds = new Int32Array(0x10000);
  private readonly astralIds = new Map<number, number>();

  private constructor(chars: string[]) {
    this.chars = Object.freeze(chars);
    this.size = chars.length + 1;
    chars.forEach((ch, index) => {
      const cp = ch.codePointAt(0) as number;
      if (cp < 0x10000) this.bmpIds[cp] = index + 1;
      else this.astralIds.set(cp, index + 1);
    });
  }

  /**
   * Every distinct character of `text`, sorted by code point. With `maxSize` (the whole vocabulary
   * size including '<unk>', an integer ≥ 2), only the maxSize - 1 most frequent characters are kept
   * (ties: lower code point first), still sorted by code point.
   */
  static build(text: string, options: { maxSize?: number } = {}): CharVocab {
    if (typeof text !== 'string') throw new TypeError(`CharVocab.build needs a string; got ${typeof text}`);
    const maxSize = options.maxSize === undefined ? Infinity : requireInteger('maxSize', options.maxSize, 2);
    let entries = [...countCodePoints(text)];
    if (entries.length > maxSize - 1) {
      entries.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
      entries = entries.slice(0, maxSize - 1);
    }
    entries.sort((a, b) => a[0] - b[0]);
    return new CharVocab(entries.map(([cp]) => String.fromCodePoint(cp)));
  }

  /** Validates `json` (as written by toJSON) and rebuilds the vocabulary. */
  static fromJSON(json: CharVocabJson): CharVocab {
    const value = json as unknown as Record<string, unknown> | null;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new TypeError(`char vocab JSON must be an object { type: 'char', unknown: '<unk>', chars: string[] }; got ${JSON.stringify(json)}`);
    }
    if (value.type !== 'char') throw new RangeError(`char vocab JSON: type must be 'char'; got ${JSON.stringify(value.type)}`);
    if (value.unknown !== UNKNOWN_TOKEN) {
      throw new RangeError(`char vocab JSON: unknown must be '${UNKNOWN_TOKEN}'; got ${JSON.stringify(value.unknown)}`);
    }
    const chars = value.chars;
    if (!Array.isArray(chars)) throw new TypeError(`char vocab JSON: chars must be an array of strings; got ${JSON.stringify(chars)}`);
    const seen = new Map<string, number>();
    chars.forEach((ch: unknown, index) => {
      if (typeof ch !== 'string' || ch.length === 0 || [...ch].length !== 1) {
        throw new RangeError(`char vocab JSON: chars[${index}] must be exactly one character (code point); got ${JSON.stringify(ch)}`);
      }
      const previous = seen.get(ch);
      if (previous !== undefined) {
        throw new RangeError(`char vocab JSON: chars[${index}] ${JSON.stringify(ch)} repeats chars[${previous}]`);
      }
      seen.set(ch, index);
    });
    return new CharVocab([...(chars as string[])]);
  }

  toJSON(): CharVocabJson {
    return { type: 'char', unknown: UNKNOWN_TOKEN, chars: [...this.chars] };
  }

  /** The id of one character (0 if unknown). */
  id(char: string): number {
    const cp = char.codePointAt(0);
    if (cp === undefined || [...char].length !== 1) return 0;
    return this.idOf(cp);
  }

  private idOf(codePoint: number): number {
    return codePoint < 0x10000 ? this.bmpIds[codePoint] : (this.astralIds.get(codePoint) ?? 0);
  }

  /** One id per code point; characters not in the vocabulary become 0. Never throws. */
  encode(text: string): Int32Array {
    const source = String(text);
    const ids = new Int32Array(source.length); // ≥ the number of code points
    const bmp = this.bmpIds;
    let n = 0;
    for (let i = 0; i < source.length; i++) {
      const unit = source.charCodeAt(i);
      if (unit < 0xd800 || unit > 0xdbff || i + 1 === source.length) {
        ids[n++] = bmp[unit];
        continue;
      }
      const low = source.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        ids[n++] = this.astralIds.get((unit - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000) ?? 0;
        i++;
      } else {
        ids[n++] = bmp[unit]; // a lone high surrogate
      }
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /** The characters of `ids`; 0 becomes '\uFFFD'. Throws on ids that are not integers in [0, size). */
  decode(ids: ArrayLike<number>): string {
    const parts: string[] = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size) {
        throw new RangeError(`decode: ids[${i}] = ${id} is not an integer id in [0, ${this.size})`);
      }
      parts[i] = id === 0 ? REPLACEMENT_CHARACTER : this.chars[id - 1];
    }
    return parts.join('');
  }

  /** The fraction of `text`'s characters (code points) that are in the vocabulary; 1 for ''. */
  coverage(text: string): number {
    let total = 0;
    let known = 0;
    forEachCodePoint(text, (cp) => {
      total++;
      if (this.idOf(cp) !== 0) known++;
    });
    return total === 0 ? 1 : known / total;
  }
}
