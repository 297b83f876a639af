import { describe, expect, test } from 'vitest';
import { heatmapSvg, renderSvg, renderSvgAsync, spectrumSvg, subspaceSvg, tradeoffSvg, type PlotSpec } from '@rankwise/report';
import { charLmGrid, digitsGrid, syntheticAnalyses } from './fixtures.js';
import { expectWellFormedXml, svgTexts } from './helpers.js';

describe('heatmapSvg', () => {
  test('digits: axis titles, legend title, every cell value and its parameters, the full fine-tuning row', () => {
    const svg = heatmapSvg(digitsGrid());
    expectWellFormedXml(svg, 'svg');
    const texts = svgTexts(svg);
    expect(texts).toContain('LoRA rank r (full = full fine-tuning, all weights trained)');
    expect(texts).toContain('adapted weights (placement)');
    expect(texts).toContain('accuracy (%)'); // legend title, line 1
    expect(texts).toContain('higher is better (darker)'); // legend title, line 2
    expect(texts).toContain('digits-rotate90-grid: accuracy by LoRA rank and placement');
    const values = ['62.1', '74.1', '86.2', '91.9', '94.5', '95.3', '29.9', '33.1', '36.0', '37.0', '37.2', '70.3', '83.2', '91.0', '95.8', '96.2', '96.5'];
    for (const v of values) expect(texts, v).toContain(v);
    expect([...svg.matchAll(/aria-label="x: [^;"]+; y: [^;"]+; label: \d+\.\d"/g)].length).toBe(19); // one value per cell (18 LoRA + full)
    expect(texts).toContain('1.04k · 0.386 %');
    expect(texts).toContain('269k · 100 %');
    expect(texts).toContain('full fine-tuning'); // the y label of the extra row
    expect(texts).toContain('full'); // its x position
    for (const r of ['1', '2', '4', '8', '16', '32']) expect(texts).toContain(r);
  });

  test('char LM (lower is better): direction in the legend, a "not run" cell, values to 3 decimals', () => {
    const texts = svgTexts(heatmapSvg(charLmGrid()));
    expect(texts).toContain('bits per character (bits/char)');
    expect(texts).toContain('lower is better (darker)');
    expect(texts).toContain('not run');
    for (const v of ['2.412', '2.351', '2.307', '2.289', '2.398', '2.322', '2.268', '2.331', '2.254', '2.196', '2.171', '2.139']) expect(texts, v).toContain(v);
  });
});

describe('tradeoffSvg', () => {
  test('log x axis title, metric y axis title with direction, a legend with every placement and full fine-tuning', () => {
    const svg = tradeoffSvg(digitsGrid());
    expectWellFormedXml(svg, 'svg');
    const texts = svgTexts(svg);
    expect(texts).toContain('trainable parameters (log scale)');
    expect(texts).toContain('accuracy (%) — higher is better');
    expect(texts).toContain('placement (adapted weights)');
    for (const p of ['first layer', 'last layer', 'all layers', 'full fine-tuning']) expect(texts.filter((t) => t === p).length, p).toBeGreaterThanOrEqual(1);
    expect(texts.filter((t) => t === 'full fine-tuning').length).toBe(2); // legend entry + the label beside the star
    expect(texts.filter((t) => /^r=\d+$/.test(t)).length).toBe(18);
    for (const tick of ['1k', '10k', '100k']) expect(texts).toContain(tick);
    expect(svg).toMatch(/<path[^>]*d="M0,-\d[^"]*Z"[^>]*fill="#000000"/); // the black star (a custom symbol path)
  });

  test('char LM: lower is better on the y title', () => {
    expect(svgTexts(tradeoffSvg(charLmGrid()))).toContain('bits per character (bits/char) — lower is better');
  });
});

describe('analysis plots', () => {
  const analyses = syntheticAnalyses();

  test('subspaceSvg: axes i and j, colour fixed to [0, 1], a title naming site and ranks, values in small grids', () => {
    const small = analyses.subspace.find((c) => c.r1 === 4 && c.r2 === 8);
    expect(small).toBeDefined();
    const svg = subspaceSvg(small!);
    expectWellFormedXml(svg, 'svg');
    const texts = svgTexts(svg);
    expect(texts).toContain('Subspace similarity φ(i, j) at layers.0 (all layers): r = 4 vs r = 8');
    expect(texts).toContain('i (top-i, r = 4 run)');
    expect(texts).toContain('j (top-j directions of the r = 8 run)');
    expect(texts).toContain('0.0'); // legend from 0 …
    expect(texts).toContain('1.0'); // … to 1
    for (const row of small!.phi) for (const v of row) expect(texts).toContain(v.toFixed(2));
    const large = subspaceSvg(analyses.subspace[0]); // 8 × 32: no printed values, thinned ticks
    expect(svgTexts(large)).toContain('j (top-j directions of the r = 32 run)');
    expect(() =>
      subspaceSvg({
        site: 's',
        placement: 'p',
        r1: 2,
        r2: 2,
        phi: [
          [1, 0.5],
          [1.2, 1],
        ],
      }),
    ).toThrow(/phi\(2, 1\) = 1.2 is outside \[0, 1\]/);
    expect(() => subspaceSvg({ site: 's', placement: 'p', r1: 2, r2: 2, phi: [[1, 0.5]] })).toThrow(/phi has 1 rows, expected r1 = 2/);
  });

  test('spectrumSvg: log y axis, ranks and full fine-tuning in the legend; several sites facet', () => {
    const svg = spectrumSvg(analyses);
    expectWellFormedXml(svg, 'svg');
    const texts = svgTexts(svg);
    expect(texts).toContain('singular value σᵢ of ΔW (log scale)');
    expect(texts).toContain('index i (singular values in descending order)');
    for (const r of [1, 2, 4, 8, 16, 32]) expect(texts).toContain(`r = ${r}`);
    expect(texts).toContain('full fine-tuning');
    expect(texts).toContain('LoRA rank');
    expect(texts).toContain('placement');
    const two = { ...analyses, sites: [...analyses.sites, ...analyses.sites.map((s) => ({ ...s, site: 'layers.2' }))] };
    const faceted = svgTexts(spectrumSvg(two));
    expect(faceted).toContain('layers.0');
    expect(faceted).toContain('layers.2');
    expect(svgTexts(spectrumSvg(two, { sites: ['layers.2'] }))).not.toContain('layers.0');
    expect(() => spectrumSvg(two, { sites: ['layers.9'] })).toThrow(/unknown site\(s\) layers.9; the analyses have layers.0, layers.2/);
  });
});

describe('renderSvg', () => {
  test('the synchronous render equals vega’s own View.toSVG()', async () => {
    const spec = {
      data: {
        values: [
          { a: 'x', b: 1 },
          { a: 'y', b: 3 },
        ],
      },
      mark: 'bar',
      encoding: { x: { field: 'a', type: 'nominal' }, y: { field: 'b', type: 'quantitative' } },
    } as PlotSpec;
    expect(renderSvg(spec)).toBe(await renderSvgAsync(spec));
    // With a gradient legend: equal up to vega's process-wide gradient counter (which scopeIds then hashes).
    const { heatmapSpec } = await import('../../packages/report/src/plots/heatmap.js');
    const { gridModel } = await import('../../packages/report/src/grid/model.js');
    const heat = heatmapSpec(gridModel(digitsGrid()));
    const normalise = (svg: string): string => svg.replace(/rw[0-9a-z]+-gradient_\d+/g, 'ID');
    const sync = renderSvg(heat);
    expect(sync).toMatch(/id="rw[0-9a-z]+-gradient_\d+"/);
    expect(sync).toMatch(/fill="url\(#rw[0-9a-z]+-gradient_\d+\)"/);
    expect(normalise(sync)).toBe(normalise(await renderSvgAsync(heat)));
  });

  test('vega-lite warnings are errors', () => {
    const spec = {
      data: { values: [{ a: 'x' }] },
      mark: 'bar',
      encoding: { x: { field: 'a', type: 'nominal' }, shape: { field: 'a', type: 'nominal' } },
    } as PlotSpec;
    expect(() => renderSvg(spec)).toThrow(/vega-lite: .*shape/);
  });
});
