/**
 * Regenerates screenshot.png (shown in the README): the page with the digits-cnn base and the latest digits-cnn-lora
 * export, a "1" turned 90° counter-clockwise drawn with the mouse.
 *
 *   node --conditions=source --import tsx examples/browser/screenshot.ts [--adapted runs/digits-cnn-lora/latest/tfjs]
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { drawDigit, launch, openPage, ROTATED_ONE } from './drive.js';
import { servePage } from './serve.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { base: { type: 'string' }, adapted: { type: 'string' } } });
const server = await servePage({
  base: values.base ?? join(here, '..', 'digits-cnn', 'model'),
  adapted: values.adapted ?? resolve('runs', 'digits-cnn-lora', 'latest', 'tfjs'),
});
const browser = await launch();
try {
  const { page } = await openPage(browser, server.url);
  const shown = await drawDigit(page, ROTATED_ONE);
  await page.screenshot({ path: join(here, 'screenshot.png') });
  console.log(`base: ${shown.base}; adapted: ${shown.adapted} → ${join(here, 'screenshot.png')}`);
} finally {
  await browser.close();
  await server.close();
}
