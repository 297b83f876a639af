import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The user documentation: the README, every guide in docs/, every package's README. */
export function documentationFiles(): string[] {
  const readmes = (dir: string) =>
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => join(dir, d.name, 'README.md'))
      .filter((file) => readdirSync(join(file, '..')).includes('README.md'));
  const guides = readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name));
  return ['README.md', ...guides.sort(), ...readmes('packages').sort(), ...readmes('plugins').sort()];
}

export interface CodeBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's language (`sh`, `json`, `ts`, …; '' for none). */
  language: string;
  /** Further words on the fence line: `fragment` marks a ts/js block that is only part of a program. */
  flags: string[];
  text: string;
}

/** Other names for the languages the checks know. */
const ALIASES: Record<string, string> = { bash: 'sh', shell: 'sh', console: 'text', txt: 'text', typescript: 'ts', javascript: 'js', mjs: 'js', mts: 'ts' };

/** Fenced code blocks at the start of a line (```lang flags … ```); the language by its short name. */
export function codeBlocks(file: string, markdown = readFileSync(file, 'utf8')): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: a code fence that is never closed`);
    blocks.push({
      file,
      line: i + 1,
      language: ALIASES[open[1]] ?? open[1],
      flags: open[2].split(/\s+/).filter(Boolean),
      text: lines.slice(i + 1, end).join('\n'),
    });
    i = end;
  }
  return blocks;
}

/** The markdown without fenced blocks and inline code spans (where links are not links). */
export function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const heading = /^#{1,6} (.*)$/.exec(line);
    if (!heading) continue;
    const slug = heading[1]
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\- _]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

/** Shell command lines: continuations joined, comments and blank lines dropped, split at && || ; |. */
export function shellCommands(text: string): string[][] {
  const joined = text.replace(/\\\n\s*/g, ' ');
  const commands: string[][] = [];
  for (const raw of joined.split('\n')) {
    let quote = '';
    let current: string[] = [];
    const words: string[][] = [];
    let word = '';
    let inWord = false;
    const endWord = () => {
      if (inWord) current.push(word);
      word = '';
      inWord = false;
    };
    const endCommand = () => {
      endWord();
      if (current.length > 0) words.push(current);
      current = [];
    };
    for (let i = 0; i < raw.length; i++) {
      const c = raw[i];
      if (quote) {
        if (c === quote) quote = '';
        else word += c;
        continue;
      }
      if (c === "'" || c === '"') {
        quote = c;
        inWord = true;
        continue;
      }
      if (c === '#' && !inWord) break; // a comment
      if (c === ' ' || c === '\t') {
        endWord();
        continue;
      }
      if (c === ';' || c === '|' || c === '&') {
        endCommand();
        if (raw[i + 1] === c) i++;
        continue;
      }
      word += c;
      inWord = true;
    }
    endCommand();
    commands.push(...words);
  }
  return commands;
}

/** Consecutive JSON values (one per line or spanning lines), or a `"key": value` fragment of an object. */
export function jsonValues(text: string): unknown[] {
  try {
    return [JSON.parse(text)];
  } catch {
    // fall through
  }
  const values: unknown[] = [];
  let pending = '';
  for (const line of text.split('\n')) {
    pending += `${line}\n`;
    try {
      values.push(JSON.parse(pending));
      pending = '';
    } catch {
      // the value goes on
    }
  }
  if (pending.trim() === '') return values;
  if (text.trimStart().startsWith('"')) return [JSON.parse(`{${text}}`)];
  throw new Error(`not JSON, JSON lines or a "key": value fragment (from: ${pending.trim().slice(0, 80)})`);
}
