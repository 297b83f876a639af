/** One entry point for every text corpus the pipeline can train a character model on. */
import { readTextFile } from './file-corpus.js';
import { loadMobyDick } from './moby-dick.js';
import { selectSotuSpeeches } from './sotu.js';

export type TextSource =
  | { corpus: 'moby-dick' }
  /** Filters combine with AND; names match case-insensitively (ignoring spaces and punctuation); years are inclusive. */
  | { corpus: 'sotu'; president?: string | string[]; party?: string | string[]; years?: [number, number] }
  /** .txt (or any other extension): plain UTF-8; .jsonl: a "text" field per line; .csv: a "text" column. */
  | { corpus: 'file'; path: string };

export interface TextCorpus {
  /** 'moby-dick', 'sotu', 'sotu[party=Whig;years=1840-1850]', 'file:<path>'. */
  name: string;
  /** The documents joined with a blank line ("\n\n"). */
  text: string;
  documents: number;
}

export const TEXT_CORPORA = ['moby-dick', 'sotu', 'file'] as const;

export async function loadText(source: TextSource): Promise<TextCorpus> {
  const corpus = (source as { corpus?: unknown } | null)?.corpus;
  if (corpus === 'moby-dick') {
    const { text, sections } = await loadMobyDick();
    return { name: 'moby-dick', text, documents: sections };
  }
  if (corpus === 'sotu') {
    const { president, party, years } = source as Extract<TextSource, { corpus: 'sotu' }>;
    const { speeches, label } = await selectSotuSpeeches({ president, party, years });
    return {
      name: label === '' ? 'sotu' : `sotu[${label}]`,
      text: speeches.map((s) => s.text).join('\n\n'),
      documents: speeches.length,
    };
  }
  if (corpus === 'file') {
    const file = (source as { path?: unknown }).path;
    if (typeof file !== 'string') throw new TypeError(`a 'file' text source needs a string path; got ${JSON.stringify(file)}`);
    const { text, documents } = await readTextFile(file);
    return { name: `file:${file}`, text, documents };
  }
  throw new RangeError(`text source corpus must be one of ${TEXT_CORPORA.map((c) => `'${c}'`).join(', ')}; got ${JSON.stringify(corpus)}`);
}
