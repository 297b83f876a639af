/**
 * Splits a streamed JSON array `[ {...}, {...} ]` into the text of its elements without holding the whole file:
 * tracks string / escape state and bracket depth, and returns each top-level element's text with the 1-based line
 * it starts on. Only the current element's text is buffered.
 */
export class JsonArraySplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private ended = false;
  /** Inside a top-level element (an object, array, string or scalar). */
  private inElement = false;
  private scalar = false;
  private element = '';
  private elementLine = 0;
  private line = 1;

  /** Feeds text; returns the elements completed in it. Throws an Error (message with the line) on a bad structure. */
  push(text: string): Array<{ text: string; line: number }> {
    const out: Array<{ text: string; line: number }> = [];
    let sliceStart = 0;
    const finish = (endExclusive: number): void => {
      out.push({ text: this.element + text.slice(sliceStart, endExclusive), line: this.elementLine });
      this.element = '';
      this.inElement = false;
      this.scalar = false;
    };
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.inString) {
        if (c === 10) this.line++;
        if (this.escaped) this.escaped = false;
        else if (c === 92)
          this.escaped = true; // backslash
        else if (c === 34) {
          this.inString = false; // closing quote
          if (this.depth === 0 && this.inElement) finish(i + 1);
        }
        continue;
      }
      if (this.scalar && (c === 44 || c === 93 || c === 32 || c === 9 || c === 10 || c === 13)) finish(i);
      if (c === 10) this.line++;
      if (this.inElement) {
        if (c === 34) this.inString = true;
        else if (c === 123 || c === 91) this.depth++;
        else if (c === 125 || c === 93) {
          this.depth--;
          if (this.depth === 0) finish(i + 1);
        }
        continue;
      }
      if (c === 32 || c === 9 || c === 10 || c === 13) continue;
      if (!this.started) {
        if (c !== 91) throw new Error(`line ${this.line}: a JSON array must start with "[", found ${JSON.stringify(text[i])}`);
        this.started = true;
        continue;
      }
      if (this.ended) throw new Error(`line ${this.line}: text after the closing "]" of the array`);
      if (c === 44) continue; // a comma between elements (a missing or doubled one shows when the element is parsed)
      if (c === 93) {
        this.ended = true;
        continue;
      }
      this.inElement = true;
      this.elementLine = this.line;
      sliceStart = i;
      if (c === 123 || c === 91) this.depth = 1;
      else if (c === 34) this.inString = true;
      else this.scalar = true;
    }
    if (this.inElement) this.element += text.slice(sliceStart);
    return out;
  }

  /** Throws unless the array was closed. */
  end(): void {
    if (!this.started) throw new Error('the file is empty; a JSON array "[...]" was expected');
    if (!this.ended) throw new Error(`line ${this.line}: the file ends inside the array (no closing "]")`);
  }
}
