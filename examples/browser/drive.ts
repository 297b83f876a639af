/** Drives the page in Debian's chromium through puppeteer-core (no browser download): used by the test and screenshot.ts. */
import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = process.env.RANKWISE_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

export async function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=900,520'],
    defaultViewport: { width: 900, height: 520 },
  });
}

export interface PagePredictions {
  base: number[][];
  adapted: number[][];
}

/** Opens the page and waits until both models are loaded; returns the backend the page runs on. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; backend: string }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  await page.goto(url, { waitUntil: 'load' });
  // Page code as strings: tsx/esbuild would wrap functions in helpers (__name) the page does not have.
  const backend = (await page.evaluate('window.rankwise.then((api) => api.backend)').catch((error: Error) => {
    throw new Error(`page failed: ${error.message} ${errors.join('; ')}`);
  })) as string;
  return { page, backend };
}

export async function predictInPage(page: Page, images: number[][]): Promise<PagePredictions> {
  return (await page.evaluate(`window.rankwise.then((api) => api.predict(${JSON.stringify(images)}))`)) as PagePredictions;
}

/** Draws with the mouse along `strokes` (points in pad pixels, 0–280) and returns both models' top predictions. */
export async function drawDigit(page: Page, strokes: Array<Array<[number, number]>>): Promise<{ base: string; adapted: string; ink: number }> {
  const box = await (await page.$('#pad'))!.boundingBox();
  if (!box) throw new Error('no drawing pad');
  for (const stroke of strokes) {
    await page.mouse.move(box.x + stroke[0][0], box.y + stroke[0][1]);
    await page.mouse.down();
    for (const [x, y] of stroke.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
    await page.mouse.up();
  }
  return (await page.evaluate(`window.rankwise.then((api) => ({
    base: document.querySelector('#base .top').textContent,
    adapted: document.querySelector('#adapted .top').textContent,
    ink: api.padPixels().reduce((a, b) => a + b, 0),
  }))`)) as { base: string; adapted: string; ink: number };
}

/** A "1" turned 90° counter-clockwise: one horizontal stroke. */
export const ROTATED_ONE: Array<Array<[number, number]>> = [
  [
    [50, 140],
    [140, 138],
    [230, 140],
  ],
];
