/**
 * Writes digits from the mnist package as PNG files, one folder per class (`0-zero/`, `1-one/`, …): the image
 * folder `pipelines/cnn-images-lora.json` trains from. The images are rotated by 90° (a new task for the digits CNN,
 * which was trained on upright digits), 100 per class, chosen by the seeded split of @rankwise/datasets.
 *
 *   node --conditions=source --import tsx examples/digits-png/write-pngs.ts            # → examples/digits-png/rotated/
 *   node --conditions=source --import tsx examples/digits-png/write-pngs.ts --out /tmp/png --per-class 20 --transform none
 */
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DIGIT_SIDE, loadDigits, type DigitTransform } from '@rankwise/datasets';

export const CLASS_FOLDERS = ['0-zero', '1-one', '2-two', '3-three', '4-four', '5-five', '6-six', '7-seven', '8-eight', '9-nine'];

export async function writeDigitPngs(out: string, perClass = 100, transform: DigitTransform = 'rotate90', seed = 0): Promise<number> {
  const digits = await loadDigits({ split: 'test', seed, transform });
  await rm(out, { recursive: true, force: true });
  for (const folder of CLASS_FOLDERS) await mkdir(join(out, folder), { recursive: true });
  const written = new Int32Array(CLASS_FOLDERS.length);
  const pixels = DIGIT_SIDE * DIGIT_SIDE;
  for (let i = 0; i < digits.n; i++) {
    const label = digits.y[i];
    if (written[label] >= perClass) continue;
    const bytes = Buffer.alloc(pixels);
    for (let p = 0; p < pixels; p++) bytes[p] = Math.round(Math.min(1, Math.max(0, digits.x[i * pixels + p])) * 255);
    const name = `${String(written[label]).padStart(3, '0')}.png`;
    await sharp(bytes, { raw: { width: DIGIT_SIDE, height: DIGIT_SIDE, channels: 1 } })
      .png({ compressionLevel: 9 })
      .toFile(join(out, CLASS_FOLDERS[label], name));
    written[label]++;
  }
  return written.reduce((a, b) => a + b, 0);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { out: { type: 'string' }, 'per-class': { type: 'string' }, transform: { type: 'string' } } });
  const out = resolve(values.out ?? join(import.meta.dirname, 'rotated'));
  const n = await writeDigitPngs(out, Number(values['per-class'] ?? 100), (values.transform ?? 'rotate90') as DigitTransform);
  console.log(`wrote ${n} PNG files to ${out}`);
}
