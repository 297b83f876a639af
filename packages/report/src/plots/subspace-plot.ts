import type { SubspaceComparison } from '../types.js';
import { renderSvg, type PlotSpec } from './render.js';

/** Checks that φ is r1 × r2 with values in [0, 1] (up to 1e-9). */
export function validateComparison(c: SubspaceComparison): void {
  if (!Number.isInteger(c.r1) || !Number.isInteger(c.r2) || c.r1 < 1 || c.r2 < 1)
    throw new RangeError(`subspace comparison ${c.site}: r1 = ${c.r1}, r2 = ${c.r2} must be positive integers`);
  if (!Array.isArray(c.phi) || c.phi.length !== c.r1)
    throw new RangeError(`subspace comparison ${c.site}: phi has ${c.phi?.length} rows, expected r1 = ${c.r1}`);
  c.phi.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== c.r2)
      throw new RangeError(`subspace comparison ${c.site}: phi row ${i + 1} has ${row?.length} values, expected r2 = ${c.r2}`);
    row.forEach((v, j) => {
      if (!(v >= -1e-9 && v <= 1 + 1e-9)) throw new RangeError(`subspace comparison ${c.site}: phi(${i + 1}, ${j + 1}) = ${v} is outside [0, 1]`);
    });
  });
}

/**
 * Heatmap of φ(i, j) (paper Fig. 3): y = i (1..r1, top to bottom), x = j (1..r2), colour fixed to [0, 1]
 * (darker = more similar); values are printed when the cells are large enough to hold them.
 */
export function subspaceSvg(comparison: SubspaceComparison): string {
  return renderSvg(subspaceSpec(comparison));
}

export function subspaceSpec(c: SubspaceComparison): PlotSpec {
  validateComparison(c);
  const step = c.r2 <= 16 ? 40 : Math.max(9, Math.floor(640 / c.r2));
  const stepY = c.r1 <= 16 ? (c.r2 <= 16 ? 32 : 22) : Math.max(9, Math.floor(480 / c.r1));
  const printValues = step >= 34 && stepY >= 20;
  const data = c.phi.flatMap((row, i) => row.map((phi, j) => ({ i: i + 1, j: j + 1, phi, label: phi.toFixed(2), dark: phi > 0.55 })));
  const ticks = (n: number): number[] => Array.from({ length: n }, (_, k) => k + 1).filter((k) => n <= 16 || k === 1 || k % Math.ceil(n / 8) === 0);
  return {
    title: {
      text: `Subspace similarity φ(i, j) at ${c.site} (${c.placement}): r = ${c.r1} vs r = ${c.r2}`,
      subtitle: `φ = ‖U_${c.r1}[:, :i]ᵀ U_${c.r2}[:, :j]‖²_F / min(i, j) of the A factors' left singular vectors · 1 = contained, 0 = orthogonal`,
    },
    width: { step },
    height: { step: stepY },
    data: { values: data },
    encoding: {
      x: { field: 'j', type: 'ordinal', axis: { title: `j (top-j directions of the r = ${c.r2} run)`, labelAngle: 0, values: ticks(c.r2) } },
      y: { field: 'i', type: 'ordinal', axis: { title: `i (top-i, r = ${c.r1} run)`, values: ticks(c.r1) } },
    },
    layer: [
      {
        mark: { type: 'rect', stroke: c.r2 <= 32 ? 'white' : null, strokeWidth: 0.5 },
        encoding: {
          color: {
            field: 'phi',
            type: 'quantitative',
            scale: { scheme: 'blues', domain: [0, 1], clamp: true },
            legend: { title: ['φ(i, j)', '1 = same subspace'], format: '.1f', values: [0, 0.2, 0.4, 0.6, 0.8, 1], gradientLength: 160 },
          },
        },
      },
      ...(printValues
        ? [
            {
              mark: { type: 'text' as const, fontSize: 10 },
              encoding: { text: { field: 'label' }, color: { condition: { test: 'datum.dark', value: 'white' }, value: '#111' } },
            },
          ]
        : []),
    ],
    config: { axis: { domain: false, ticks: false } },
  } as PlotSpec;
}
