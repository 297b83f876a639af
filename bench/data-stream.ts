/**
 * Data workload D1: a large JSONL file streamed through `readRecords` and tokenized, never read whole.
 * The file (default 1 GB of `{"text": …}` lines, seeded pseudo-text) is generated in the temp folder first, then
 * read record by record; each text is encoded with the tokenizer (a Hugging Face tokenizer.json with
 * `--tokenizer <dir>`, e.g. the byte-level BPE of test/fixtures/hf/llama-tiny; default a character vocabulary) and only counted.
 * Reported: MB/s, tokens/s, and the process's resident memory (RSS) before, at its peak while reading, and the
 * file size, to show memory does not grow with the file. Writes bench/results/<date>-data-stream.json.
 *
 *   pnpm bench:data                      # 1 GB
 *   pnpm bench:data --mb 100 --tokenizer char
 */
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { Command } from 'commander';
import { CharVocab, HfTokenizer, readRecords } from '@rankwise/datasets';

const program = new Command('bench:data')
  .option('--mb <n>', 'size of the generated JSONL file in MB (10^6 bytes)', '1000')
  .option('--tokenizer <dir|char>', 'a folder with tokenizer.json (e.g. test/fixtures/hf/llama-tiny), or "char" (a character vocabulary)', 'char')
  .option('--out <dir>', 'where to write the results', 'bench/results')
  .option('--keep', 'keep the generated file')
  .parse();
const opts = program.opts<{ mb: string; tokenizer: string; out: string; keep?: boolean }>();
const targetBytes = Number(opts.mb) * 1e6;

const WORDS =
  'the of and to a in is that it was for on are as with his they at be this from have or by one had not but what all were when we there can an your which their said if do will each about how up out them then she many some so these would other into has more her two like him see time could no make than first been its who now people my made over did down only way find use may water long little very after words called just where most know'.split(
    ' ',
  );

/** Writes `bytes` of JSONL: documents of 20–400 seeded words with punctuation, one `{"id", "text"}` per line. */
async function generate(file: string, bytes: number): Promise<{ lines: number; bytes: number }> {
  const out = createWriteStream(file);
  let state = 0x2545f491;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  let written = 0;
  let lines = 0;
  while (written < bytes) {
    let batch = '';
    for (let k = 0; k < 256; k++) {
      const n = 20 + Math.floor(next() * 380);
      const words: string[] = [];
      for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(next() * WORDS.length)] + (next() < 0.08 ? (next() < 0.5 ? '.' : ',') : ''));
      batch += `${JSON.stringify({ id: lines++, text: words.join(' ') })}\n`;
    }
    written += Buffer.byteLength(batch);
    if (!out.write(batch)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return { lines, bytes: written };
}

const mb = (n: number) => (n / 2 ** 20).toFixed(1);
const dir = await mkdtemp(join(tmpdir(), 'rankwise-bench-data-'));
const file = join(dir, 'corpus.jsonl');
try {
  const genStart = performance.now();
  const generated = await generate(file, targetBytes);
  console.log(
    `generated ${file}: ${(generated.bytes / 1e6).toFixed(0)} MB, ${generated.lines.toLocaleString('en-US')} lines in ${((performance.now() - genStart) / 1000).toFixed(1)} s`,
  );
  const tokenizer = opts.tokenizer === 'char' ? CharVocab.build(`${WORDS.join(' ')}.,`) : await HfTokenizer.fromDirectory(opts.tokenizer);
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  let records = 0;
  let tokens = 0;
  let bytes = 0;
  const start = performance.now();
  let lastLog = start;
  for await (const { value } of readRecords(file)) {
    const text = value.text as string;
    tokens += tokenizer.encode(text).length;
    bytes += text.length + 24; // ≈ the line's bytes (ASCII text + the JSON around it), for the progress line only
    records++;
    if (performance.now() - lastLog > 5000) {
      lastLog = performance.now();
      const seconds = (lastLog - start) / 1000;
      console.log(`  ${records.toLocaleString('en-US')} records, ${(bytes / 1e6 / seconds).toFixed(1)} MB/s, RSS ${mb(process.memoryUsage().rss)} MiB`);
    }
  }
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  const seconds = (performance.now() - start) / 1000;
  const size = (await stat(file)).size;
  const result = {
    id: 'D1-jsonl-tokenize',
    description: `JSONL streamed with readRecords and tokenized (${opts.tokenizer === 'char' ? 'character vocabulary' : `tokenizer.json of ${opts.tokenizer}`})`,
    fileBytes: size,
    records,
    tokens,
    seconds,
    mbPerSec: size / 1e6 / seconds,
    tokensPerSec: tokens / seconds,
    rssBeforeBytes: rssBefore,
    peakRssBytes: peak,
    peakRssOverFile: peak / size,
    node: process.version,
    date: new Date().toISOString(),
  };
  console.log(
    `D1: ${(size / 1e6).toFixed(0)} MB, ${records.toLocaleString('en-US')} records, ${tokens.toLocaleString('en-US')} tokens in ${seconds.toFixed(1)} s: ` +
      `${result.mbPerSec.toFixed(1)} MB/s, ${(result.tokensPerSec / 1e6).toFixed(2)} M tokens/s; RSS ${mb(rssBefore)} MiB before, peak ${mb(peak)} MiB (${((100 * peak) / size).toFixed(1)}% of the file)`,
  );
  await mkdir(opts.out, { recursive: true });
  const out = join(opts.out, `${result.date.slice(0, 10)}-data-stream${opts.mb === '1000' ? '' : `-${opts.mb}mb`}.json`);
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
} finally {
  if (!opts.keep) await rm(dir, { recursive: true, force: true });
}
