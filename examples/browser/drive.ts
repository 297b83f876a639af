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
  const backend = await page.evaluate(async () => (await (globalThis as unknown as { rankwise: Promise<{ backend: string }> }).rankwise).backend).catch((error: Error) => {
    throw new Error(`page failed: ${error.message} ${errors.join('; ')}`);
  });
  return { page, backend };
}

export async function predictInPage(page: Page, images: number[][]): Promise<PagePredictions> {
  return page.evaluate(async (input) => {
    const api = await (globalThis as unknown as { rankwise: Promise<{ predict(i: number[][]): PagePredictions }> }).rankwise;
    return api.predict(input);
  }, images);
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
  return page.evaluate(async () => {
    const api = await (globalThis as unknown as { rankwise: Promise<{ padPixels(): number[] }> }).rankwise;
    const { document } = globalThis as unknown as { document: { querySelector(selector: string): { textContent: string | null } | null } };
    const text = (id: string) => document.querySelector(`#${id} .top`)?.textContent ?? '';
    return { base: text('base'), adapted: text('adapted'), ink: api.padPixels().reduce((a, b) => a + b, 0) };
  });
}

/** A "1" turned 90° counter-clockwise: one horizontal stroke. */
export const ROTATED_ONE: Array<Array<[number, number]>> = [[[50, 140], [140, 138], [230, 140]]];
