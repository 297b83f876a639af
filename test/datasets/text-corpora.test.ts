import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { describeDataset, loadText, sotuParties, sotuPresidents, type TextSource } from '@rankwise/datasets';

const sotu = (filter: Omit<Extract<TextSource, { corpus: 'sotu' }>, 'corpus'>) => loadText({ corpus: 'sotu', ...filter });

describe('Moby Dick', () => {
  test('139 sections, 1,217,395 characters, from the contents to the epilogue', async () => {
    const book = await loadText({ corpus: 'moby-dick' });
    expect(book.name).toBe('moby-dick');
    expect(book.documents).toBe(139); // contents, etymology, extracts, 135 chapters, epilogue
    expect(book.text.length).toBe(1_217_395);
    expect(book.text.startsWith('CONTENTS\n\n\nETYMOLOGY.')).toBe(true);
    expect(book.text).toContain('CHAPTER 1. Loomings.\n\nCall me Ishmael.');
    expect(book.text.endsWith('only found another orphan.')).toBe(true);
    expect(describeDataset(book)).toBe('moby-dick: 1,217,395 characters (UTF-16 units), 139 documents');
  });
});

describe('State of the Union', () => {
  test('233 addresses (1790–2021), 10,760,295 characters, 43 presidents, 8 parties', async () => {
    const all = await loadText({ corpus: 'sotu' });
    expect(all.name).toBe('sotu');
    expect(all.documents).toBe(233);
    expect(all.text.length).toBe(10_760_295);
    const presidents = await sotuPresidents();
    expect(presidents.length).toBe(43);
    expect(presidents.slice(0, 3)).toEqual(['George Washington', 'John Adams', 'Thomas Jefferson']);
    expect(presidents.slice(-3)).toEqual(['Barack Obama', 'Donald J Trump', 'Joseph R Biden']);
    expect(await sotuParties()).toEqual([
      'none',
      'Federalist',
      'Democratic-Republican',
      'Democratic',
      'Whig & Democratic',
      'Whig',
      'Republican',
      'National Union',
    ]);
  });

  test('filters by president (case-insensitive, punctuation ignored), party and years', async () => {
    const lincoln = await sotu({ president: 'abraham LINCOLN' });
    expect([lincoln.name, lincoln.documents, lincoln.text.length]).toEqual(['sotu[president=Abraham Lincoln]', 4, 163_739]);
    expect((await sotu({ president: 'Ulysses S. Grant' })).documents).toBe(8);
    expect((await sotu({ president: 'William McKinley' })).documents).toBe(4); // 'William Mc Kinley' in the data
    expect((await sotu({ president: 'Franklin D. Roosevelt' })).documents).toBe(12);
    expect((await sotu({ president: ['Abraham Lincoln', 'andrew johnson'] })).documents).toBe(8);
    expect((await sotu({ party: 'Republican' })).documents).toBe(92);
    expect((await sotu({ party: 'democratic' })).documents).toBe(90);
    const whig = await sotu({ party: 'Whig' });
    expect([whig.name, whig.documents, whig.text.length]).toEqual(['sotu[party=Whig]', 4, 234_113]);
    expect((await sotu({ party: ['Whig', 'Federalist'] })).documents).toBe(8);
    const decade = await sotu({ years: [1900, 1909] }); // McKinley 1900, T. Roosevelt 1901–1908, Taft 1909
    expect([decade.name, decade.documents, decade.text.length]).toEqual(['sotu[years=1900-1909]', 10, 1_132_273]);
    expect((await sotu({ years: [1953, 1953] })).documents).toBe(2); // Truman and Eisenhower
  });

  test('filters combine with AND', async () => {
    const ike = await sotu({ party: 'Republican', years: [1953, 1953] });
    expect(ike.documents).toBe(1);
    expect(ike.name).toBe('sotu[party=Republican;years=1953-1953]');
    expect((await sotu({ party: 'Democratic', years: [1930, 1945] })).documents).toBe(12); // F. D. Roosevelt 1934–1945
    expect((await sotu({ president: 'Theodore Roosevelt', years: [1900, 1904] })).documents).toBe(4);
  });

  test('errors list the known names, or say which filter matched nothing', async () => {
    const unknown = await sotu({ president: 'Abe Lincoln' }).catch((e: Error) => e.message);
    expect(unknown).toMatch(/^unknown SOTU president "Abe Lincoln"; known presidents \(43\): George Washington, John Adams, /);
    expect(unknown).toContain('Abraham Lincoln');
    expect(unknown).toMatch(/Joseph R Biden$/);
    await expect(sotu({ party: 'Tory' })).rejects.toThrow(/unknown SOTU party "Tory"; known parties \(8\): none, Federalist, .*Whig/);
    await expect(sotu({ president: 'Abraham Lincoln', party: 'Democratic' })).rejects.toThrow(
      'no State of the Union address matches the filter president=Abraham Lincoln;party=Democratic (the 233 addresses span 1790–2021)',
    );
    await expect(sotu({ years: [1933, 1933] })).rejects.toThrow(/matches the filter years=1933-1933/); // no address in 1933
    await expect(sotu({ years: [1960, 1950] })).rejects.toThrow(/two integers with first ≤ last; got \[1960,1950\]/);
    await expect(sotu({ years: [1950] as unknown as [number, number] })).rejects.toThrow(/got \[1950\]/);
    await expect(sotu({ president: [] })).rejects.toThrow(/non-empty array of strings/);
  });
});

describe('text files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rankwise-text-'));
  const write = (name: string, content: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  test('.txt is one document (a byte order mark is dropped)', async () => {
    const file = write('a.txt', '\uFEFFhello\nworld 😀\n');
    const corpus = await loadText({ corpus: 'file', path: file });
    expect(corpus).toEqual({ name: `file:${file}`, text: 'hello\nworld 😀\n', documents: 1 });
  });

  test('.jsonl: a "text" field per line, blank lines skipped', async () => {
    const file = write('b.jsonl', '{"text":"first","id":1}\n\n{"text":"second\\nline"}\r\n');
    expect(await loadText({ corpus: 'file', path: file })).toMatchObject({ text: 'first\n\nsecond\nline', documents: 2 });
    const bad = write('bad.jsonl', '{"text":"ok"}\n{"body":"no text"}\n');
    await expect(loadText({ corpus: 'file', path: bad })).rejects.toThrow(`${bad}:2: expected an object with a string "text" field`);
    const broken = write('broken.jsonl', '{"text":"ok"}\n{"text":\n');
    await expect(loadText({ corpus: 'file', path: broken })).rejects.toThrow(`${broken}:2: not valid JSON`);
  });

  test('.csv: the "text" column, quoted commas and newlines kept', async () => {
    const file = write('c.csv', 'id,text,label\n1,"Hello, world",a\n2,"two\nlines",b\n3,plain,c\n');
    expect(await loadText({ corpus: 'file', path: file })).toMatchObject({ text: 'Hello, world\n\ntwo\nlines\n\nplain', documents: 3 });
    const noText = write('d.csv', 'id,body\n1,x\n');
    await expect(loadText({ corpus: 'file', path: noText })).rejects.toThrow(`${noText}: the CSV header has no "text" column; columns: id, body`);
  });

  test('a missing or empty file is named in the error', async () => {
    const missing = path.join(dir, 'nope.txt');
    await expect(loadText({ corpus: 'file', path: missing })).rejects.toThrow(`text file not found: ${missing}`);
    const empty = write('empty.txt', '');
    await expect(loadText({ corpus: 'file', path: empty })).rejects.toThrow(`text file ${empty} has no text`);
    await expect(loadText({ corpus: 'shakespeare' } as unknown as TextSource)).rejects.toThrow(
      `text source corpus must be one of 'moby-dick', 'sotu', 'file'; got "shakespeare"`,
    );
  });
});
