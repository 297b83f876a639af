/**
 * The text of one row as its tokens arrive: what can be shown so far, and whether a stop string appeared. Text that
 * could still become a stop string, or that ends in an incomplete UTF-8 sequence (U+FFFD from a byte-level token cut
 * mid-character), is held back until the next token settles it. The output ends before the first stop string.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private shown = 0;
  private final: string | null = null;

  constructor(
    private readonly decode: (ids: readonly number[]) => string,
    private readonly stops: readonly string[] = [],
  ) {}

  get stopped(): boolean {
    return this.final !== null;
  }

  /** The text so far (up to the stop string once stopped). */
  get text(): string {
    return this.final ?? this.decode(this.ids);
  }

  /** Adds a token and returns the text that became safe to show. */
  push(id: number): string {
    if (this.final !== null) return '';
    this.ids.push(id);
    const full = this.decode(this.ids);
    const at = Math.min(...this.stops.map((s) => full.indexOf(s)).filter((i) => i >= 0));
    if (Number.isFinite(at)) {
      this.final = full.slice(0, at);
      return this.emitUpTo(this.final);
    }
    let safe = full.length;
    while (safe > 0 && full[safe - 1] === '\uFFFD') safe--;
    for (const stop of this.stops) {
      for (let k = Math.min(stop.length - 1, full.length); k > 0; k--) {
        if (full.endsWith(stop.slice(0, k))) {
          safe = Math.min(safe, full.length - k);
          break;
        }
      }
    }
    return this.emitUpTo(full.slice(0, safe));
  }

  /** The held-back rest at the end of generation. */
  flush(): string {
    return this.emitUpTo(this.text);
  }

  private emitUpTo(text: string): string {
    if (text.length <= this.shown) return '';
    const out = text.slice(this.shown);
    this.shown = text.length;
    return out;
  }
}
