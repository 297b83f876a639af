/**
 * A model directory's tokenizer.json as a rankwise vocabulary, through `@huggingface/tokenizers` (tokenizers.js):
 * Hugging Face's own pure-JavaScript implementation of the tokenizer.json format (BPE, byte-level, WordPiece,
 * Unigram, normalizers, pre-tokenizers, decoders, added tokens), maintained with transformers.js, with no native
 * code and no dependencies, so it installs everywhere rankwise does (the Rust `tokenizers` bindings need a prebuilt
 * binary download, which fails offline).
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';

export const TOKENIZER_FILE = 'tokenizer.json';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** What `toJSON` writes and `HfTokenizer.fromJSON` reads back (a checkpoint can carry its tokenizer). */
export interface HfTokenizerJson {
  type: 'huggingface-tokenizer';
  tokenizer: object;
  config: object;
}

/** Longest piece encoded in one call: text is cut after a newline near this length (tokenizers.js keeps every token string of a call). */
const CHUNK_CHARS = 65_536;

export class HfTokenizer {
  /** Largest token id + 1 (added tokens included). */
  readonly size: number;
  /** Every id is a real token: there is no unknown id to keep out of sampling. */
  readonly unknownId = null;
  readonly unit = 'token';
  private readonly tokenizer: Tokenizer;

  private constructor(
    private readonly json: object,
    private readonly config: object,
    /** The model directory it was read from: saving copies its tokenizer files verbatim. */
    private readonly sourceDir: string | null = null,
  ) {
    this.tokenizer = new Tokenizer(json, config);
    let max = -1;
    for (const id of this.tokenizer.get_vocab(true).values()) max = Math.max(max, id);
    this.size = max + 1;
  }

  /** Reads `<dir>/tokenizer.json` (required) and `<dir>/tokenizer_config.json` (optional). */
  static async fromDirectory(dir: string): Promise<HfTokenizer> {
    const file = join(dir, TOKENIZER_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(
        code === 'ENOENT'
          ? `${dir}: no ${TOKENIZER_FILE} (the model's tokenizer; rankwise reads the "fast" tokenizer.json format)`
          : `${file}: cannot read (${code})`,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
    }
    if (typeof json !== 'object' || json === null || typeof (json as { model?: unknown }).model !== 'object') {
      throw new Error(`${file}: /model: missing; a tokenizer.json names its model (BPE, WordPiece, Unigram…)`);
    }
    let config: object = {};
    const configFile = join(dir, TOKENIZER_CONFIG_FILE);
    try {
      config = JSON.parse(await readFile(configFile, 'utf8')) as object;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${configFile}: ${(error as Error).message}`);
    }
    try {
      return new HfTokenizer(json, config, dir);
    } catch (error) {
      throw new Error(`${file}: tokenizers.js cannot build this tokenizer (${(error as Error).message})`);
    }
  }

  static fromJSON(json: HfTokenizerJson): HfTokenizer {
    return new HfTokenizer(json.tokenizer, json.config);
  }

  /** Token ids of `text`, no special tokens added (long text is encoded in newline-aligned pieces). */
  encode(text: string): Int32Array {
    const out: number[] = [];
    for (let start = 0; start < text.length; ) {
      let end = Math.min(text.length, start + CHUNK_CHARS);
      if (end < text.length) {
        const newline = text.lastIndexOf('\n', end);
        if (newline > start) end = newline + 1;
      }
      for (const id of this.tokenizer.encode(text.slice(start, end), { add_special_tokens: false }).ids) out.push(id);
      start = end;
    }
    return Int32Array.from(out);
  }

  /** Text of `ids`, special tokens included, no clean-up: decode(encode(text)) === text for byte-level tokenizers. */
  decode(ids: ArrayLike<number>): string {
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  }

  toJSON(): HfTokenizerJson {
    return { type: 'huggingface-tokenizer', tokenizer: this.json, config: this.config };
  }

  /**
   * Writes the tokenizer files into `dir` (so a saved model directory is complete): copies of the source directory's
   * tokenizer.json, tokenizer_config.json, special_tokens_map.json and generation_config.json when it has them.
   */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (this.sourceDir !== null) {
      for (const file of [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, 'special_tokens_map.json', 'generation_config.json']) {
        await copyFile(join(this.sourceDir, file), join(dir, file)).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
      }
      return;
    }
    await writeFile(join(dir, TOKENIZER_FILE), JSON.stringify(this.json));
    await writeFile(join(dir, TOKENIZER_CONFIG_FILE), `${JSON.stringify(this.config, null, 2)}\n`);
  }
}
