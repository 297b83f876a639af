import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { heatmapSvg, reportHtml, writeGridReport } from '@rankwise/report';
import { charLmGrid, digitsGrid } from './fixtures.js';
import { expectWellFormedXml } from './helpers.js';

const inlineSvgs = (html: string): string[] => [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);

/** The only URLs an inline SVG carries are its XML namespace declarations (xmlns, xmlns:xlink): not fetched. */
const withoutNamespaces = (html: string): string => html.replace(/\sxmlns(:\w+)?="http:\/\/www\.w3\.org\/[^"]*"/g, '');

describe('reportHtml', () => {
  const grid = digitsGrid(true);
  const html = reportHtml(grid, { title: 'Digits, rotated 90°: expressivity vs rank' });

  test('self-contained: inline CSS and SVGs, no scripts, no links, no URLs except SVG namespaces', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|<iframe|<img|\ssrc=|@import|url\((?!#)/i);
    expect(withoutNamespaces(html)).not.toMatch(/https?:\/\//);
    expect(html).toMatch(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/); // what the exception is for
  });

  test('heading, what the grid is, heatmap, trade-off, tables, analyses and how to read them', () => {
    expect(html).toContain('<h1>Digits, rotated 90°: expressivity vs rank</h1>');
    expect(html).toContain('<title>Digits, rotated 90°: expressivity vs rank</title>');
    expect(html).toContain('was run once per LoRA rank r (x axis)');
    const svgs = inlineSvgs(html);
    expect(svgs.length).toBe(2 + 1 + 3); // heatmap, trade-off, spectrum, three φ maps
    svgs.forEach((svg) => expectWellFormedXml(svg, 'svg'));
    expect(svgs[0]).toContain('accuracy by LoRA rank and placement');
    expect(svgs[1]).toContain('trainable parameters (log scale)');
    expect(svgs[2]).toContain('Singular values of ΔW');
    expect(svgs[3]).toContain('Subspace similarity φ(i, j) at layers.0 (first layer): r = 8 vs r = 32');
    // Each SVG's ids are its own, so the inlined gradients do not clash.
    const ids = svgs.flatMap((svg) => [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]));
    expect(new Set(ids).size).toBe(ids.length);
    // The grid table: 3 placement rows + full fine-tuning, the best cell marked.
    const table = html.slice(html.indexOf('<table class="grid">'), html.indexOf('</table>', html.indexOf('<table class="grid">')));
    expect(table).toContain('<td class="label">first layer</td><td>62.1<span class="sub">1.04k · 0.386 %</span></td>');
    expect(table).toContain('<td class="best full">96.5<span class="sub">269k · 100 %</span></td>');
    expect((table.match(/<tr>/g) ?? []).length).toBe(1 + 4);
    for (const heading of [
      'Metric by rank and placement',
      'Metric vs trainable parameters',
      'Table',
      'All cells',
      'Analyses (LoRA paper, Hu et al. 2021, §7)',
      'Spectra of the weight updates ΔW',
      'Subspace similarity between ranks',
    ]) {
      expect(html).toContain(`${heading}</h`);
    }
    expect(html).toContain('<strong>Effective rank</strong>');
    expect(html).toContain('<th>amplification ‖ΔW‖_F / ‖UᵀWV‖_F</th>');
    expect(html).toContain('<td>19.1</td>'); // amplification of the rank-1 first-layer update (fixture)
  });

  test('lower-is-better grid without analyses; user text is escaped', () => {
    const lm = charLmGrid();
    lm.pipeline = 'lm <b>&</b>';
    const page = reportHtml(lm);
    expect(page).toContain('<h1>lm &lt;b&gt;&amp;&lt;/b&gt;: expressivity vs rank</h1>');
    expect(page).not.toContain('<b>&</b>');
    expect(page).toContain('bits per character (bits/char) — lower is better');
    expect(page).not.toContain('Analyses (LoRA paper');
    expect(inlineSvgs(page).length).toBe(2);
    expect(withoutNamespaces(page)).not.toMatch(/https?:\/\//);
  });

  test('render time of the full report (5 plots + page) is well under a few seconds', () => {
    const t0 = performance.now();
    reportHtml(grid);
    const first = performance.now() - t0;
    const t1 = performance.now();
    reportHtml(grid);
    const second = performance.now() - t1;
    const t2 = performance.now();
    heatmapSvg(grid);
    const heatmap = performance.now() - t2;
    console.log(`report render: first ${first.toFixed(0)} ms, again ${second.toFixed(0)} ms; heatmap alone ${heatmap.toFixed(0)} ms`);
    expect(first).toBeLessThan(3000); // ~0.3–0.6 s here
    expect(second).toBeLessThan(3000);
  });
});

describe('writeGridReport', () => {
  test('writes grid.json, grid.md, the SVGs and report.html; grid.json round-trips', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-report-'));
    try {
      const result = digitsGrid(true);
      const files = await writeGridReport(join(dir, 'grid'), result);
      expect(files).toEqual([
        'grid.json',
        'grid.md',
        'heatmap.svg',
        'tradeoff.svg',
        'spectrum.svg',
        'subspace-layers-0-first-layer-r8-vs-r32.svg',
        'subspace-layers-0-all-layers-r8-vs-r32.svg',
        'subspace-layers-0-all-layers-r4-vs-r8.svg',
        'report.html',
      ]);
      expect((await readdir(join(dir, 'grid'))).sort()).toEqual([...files].sort());
      expect(JSON.parse(await readFile(join(dir, 'grid', 'grid.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(result)));
      expectWellFormedXml(await readFile(join(dir, 'grid', 'heatmap.svg'), 'utf8'), 'svg');
      expect(await readFile(join(dir, 'grid', 'grid.md'), 'utf8')).toContain('| all layers | 70.3 | 83.2 | 91.0 | 94.5 | 95.8 | 96.2 |  |');
      const plain = await writeGridReport(join(dir, 'lm'), charLmGrid());
      expect(plain).toEqual(['grid.json', 'grid.md', 'heatmap.svg', 'tradeoff.svg', 'report.html']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('validates before writing anything', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rankwise-report-'));
    try {
      const bad = digitsGrid();
      bad.cells[3].placement = 'nowhere';
      await expect(writeGridReport(join(dir, 'bad'), bad)).rejects.toThrow(/placement "nowhere", which is not in placements/);
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
