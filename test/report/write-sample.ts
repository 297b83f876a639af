/** Writes the fixture reports for a look: `node --conditions=source --import tsx test/report/write-sample.ts [dir]`. */
import { writeGridReport } from '@rankwise/report';
import { charLmGrid, digitsGrid } from './fixtures.js';

const dir = process.argv[2] ?? 'runs/report-sample';
const t0 = performance.now();
const digits = await writeGridReport(`${dir}/digits`, digitsGrid(true));
const lm = await writeGridReport(`${dir}/char-lm`, charLmGrid());
console.log(`wrote ${digits.length + lm.length} files to ${dir} in ${(performance.now() - t0).toFixed(0)} ms:`, digits, lm);
