import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunSummary } from '@rankwise/core';
import { startUi, type UiServer } from '@rankwise/observe';
import { chromiumAvailable, CHROMIUM } from '../../examples/browser/drive.js';
import { spawnCli } from '../helpers/cli.js';
import { runObserved, tinyPipeline } from '../observe/tiny-runs.js';

// CI installs chromium (.ci/run) and sets this, so a missing browser fails instead of skipping.
if (!chromiumAvailable() && process.env.RANKWISE_REQUIRE_CHROMIUM === '1') throw new Error(`RANKWISE_REQUIRE_CHROMIUM=1 but ${CHROMIUM} is missing`);

let out: string;
let finished: RunSummary;
let server: UiServer;
let browser: Browser;
let training: ChildProcessWithoutNullStreams | undefined;

describe.skipIf(!chromiumAvailable())('rankwise ui in Chromium while a run trains (puppeteer-core)', () => {
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'rankwise-dashboard-'));
    finished = await runObserved(tinyPipeline({ name: 'observe-live', r: 2 }), out);
    server = await startUi({ out, port: 0, pollMs: 150 });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
      defaultViewport: { width: 1280, height: 1000 },
    });
  });

  afterAll(async () => {
    training?.kill('SIGKILL');
    await browser?.close();
    await server?.close();
  });

  test('the training run appears, its loss curve grows live, and two runs show side by side', async () => {
    const file = join(out, 'live.json');
    // long enough to be watched on a fast machine too; killed when the test is done
    await writeFile(file, JSON.stringify(tinyPipeline({ name: 'observe-live', r: 4, lr: 0.02, steps: 3000, logEvery: 4 })));
    training = spawnCli(['run', file, '--out', out, '--quiet']);
    let stderr = '';
    training.stderr.on('data', (c) => (stderr += c));
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(server.url, { waitUntil: 'load' });
    // Page code as strings: tsx/esbuild would wrap functions in helpers (__name) the page does not have.
    await page.waitForFunction(`document.querySelector('#runs tr[data-status="running"] input')`, { timeout: 90_000 }).catch((e: Error) => {
      throw new Error(`${e.message}; the run's stderr: ${stderr}`);
    });
    const running = (await page.evaluate(`document.querySelector('#runs tr[data-status="running"]').dataset.run`)) as string;
    expect(running).toMatch(/^observe-live\/\d{8}-\d{6}/);
    await clickIn(page, '#runs tr[data-status="running"] input');
    await page.waitForFunction(`Number(document.getElementById('charts').dataset.points) > 0 && document.querySelector('#chart-loss svg')`, {
      timeout: 30_000,
    });
    const first = Number(await page.evaluate(`document.getElementById('charts').dataset.points`));
    // more train records arrive over the event stream and the chart is redrawn with them
    await page.waitForFunction(`Number(document.getElementById('charts').dataset.points) > ${first + 2}`, { timeout: 60_000 });
    const marks = (await page.evaluate(`document.querySelectorAll('#chart-loss svg path').length`)) as number;
    expect(marks).toBeGreaterThan(0);

    const other = relative(out, finished.runDir);
    await clickIn(page, `#runs tr[data-run="${other}"] input`);
    await page.waitForFunction(`document.getElementById('charts').dataset.runs === '2' && document.querySelectorAll('#compare-table thead th').length === 3`, {
      timeout: 30_000,
    });
    const columns = (await page.evaluate(`[...document.querySelectorAll('#compare-table thead th')].slice(1).map((th) => th.textContent)`)) as string[];
    expect(columns.sort()).toEqual([running, other].map((r) => r.replace(/\/$/, '')).sort());
    const settings = (await page.evaluate(
      `[...document.querySelectorAll('#compare-table tr.setting td:first-child')].map((td) => td.textContent)`,
    )) as string[];
    expect(settings).toEqual(expect.arrayContaining(['/stages/3/r', '/stages/4/optimizer/lr', '/stages/4/steps']));
    const legend = (await page.evaluate(`document.querySelector('#chart-loss svg').textContent`)) as string;
    expect(legend).toContain(running);
    expect(legend).toContain(other);
    if (process.env.RANKWISE_UI_SCREENSHOT) await page.screenshot({ path: process.env.RANKWISE_UI_SCREENSHOT as `${string}.png`, fullPage: true });
    expect(errors).toEqual([]);
  });
});

/**
 * Clicks the element in one step inside the page (found and clicked in the same task): the runs table is redrawn as
 * the live run reports, so an element handle taken a moment earlier (puppeteer's page.click) can be detached.
 */
async function clickIn(page: Page, selector: string): Promise<void> {
  await page.waitForFunction(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); if (!e) return false; e.click(); return true; })()`, {
    timeout: 30_000,
  });
}
