import { join } from 'node:path';
import { loraScaling, readAdapter, readSafetensorsFile, type ValidatedPipeline } from '@rankwise/core';
import {
  amplificationFactor, analyzeLoraSite, spectrum, subspaceSimilarity, subtract, transpose, type GridAnalyses, type Matrix, type SiteAnalysis, type SubspaceComparison,
} from '@rankwise/report';
import type { CellOutcome } from './run-cells.js';

interface AdapterFactors {
  site: string;
  /** A [in, r] and B [r, out], rankwise layout; ΔW = scaling·A·B. */
  a: Matrix;
  b: Matrix;
  r: number;
  scaling: number;
}

/** A PEFT-layout adapter's factors in rankwise layout: lora_A.weight [r, in] = Aᵀ, lora_B.weight [out, r] = Bᵀ. */
async function adapterFactors(dir: string): Promise<AdapterFactors[]> {
  return (await readAdapter(dir)).map((s) => ({
    site: s.path,
    a: transpose({ rows: s.r, cols: s.inFeatures, data: s.loraA }), // [r, in] → [in, r]
    b: transpose({ rows: s.outFeatures, cols: s.r, data: s.loraB }), // [out, r] → [r, out]
    r: s.r,
    scaling: loraScaling(s),
  }));
}

async function readWeights(file: string): Promise<Map<string, Matrix>> {
  const { tensors } = await readSafetensorsFile(file);
  const out = new Map<string, Matrix>();
  for (const [name, t] of tensors) if (name.endsWith('.weight') && t.shape.length === 2) out.set(name.slice(0, -'.weight'.length), { rows: t.shape[0], cols: t.shape[1], data: t.data });
  return out;
}

/**
 * The LoRA paper's analyses over a grid's cells: the spectrum of ΔW and the amplification factor for every adapted
 * site (LoRA cells and full fine-tuning), and the subspace similarity φ of A between the lowest (8 when present)
 * and highest rank at each placement's first site.
 */
export async function analyseGrid(outcomes: CellOutcome[], baseWeightsFile: string | null): Promise<GridAnalyses> {
  const base = baseWeightsFile ? await readWeights(baseWeightsFile) : new Map<string, Matrix>();
  const sites: SiteAnalysis[] = [];
  const adapters = new Map<CellOutcome, AdapterFactors[]>();
  for (const outcome of outcomes) {
    if (!outcome.summary) continue;
    const { plan } = outcome.cell;
    if (plan.kind === 'lora') {
      const factors = await adapterFactors(join(outcome.cell.dir, 'adapter'));
      adapters.set(outcome, factors);
      for (const f of factors) sites.push(analyzeLoraSite({ site: f.site, placement: plan.placement, a: f.a, b: f.b, scaling: f.scaling, w: base.get(f.site) }));
    } else if (base.size > 0) {
      const tuned = await readWeights(join(outcome.cell.dir, 'merged', 'model.safetensors'));
      const topRank = Math.max(...outcomes.map((o) => o.cell.plan.rank ?? 0), 1);
      for (const [site, w] of base) {
        const after = tuned.get(site);
        if (!after) continue;
        const delta = subtract(after, w);
        const r = Math.min(topRank, w.rows, w.cols); // the grid's largest rank, as far as the matrix allows
        sites.push({ site, placement: plan.placement, rank: null, spectrum: spectrum(delta, r), amplification: amplificationFactor(delta, w, r) });
      }
    }
  }
  const subspace: SubspaceComparison[] = [];
  const placements = [...new Set(outcomes.filter((o) => o.cell.plan.kind === 'lora').map((o) => o.cell.plan.placement))];
  for (const placement of placements) {
    const cells = outcomes.filter((o) => o.cell.plan.placement === placement && adapters.has(o)).sort((x, y) => x.cell.plan.rank! - y.cell.plan.rank!);
    if (cells.length < 2) continue;
    const high = cells[cells.length - 1];
    const low = cells.find((c) => c.cell.plan.rank === 8 && c !== high) ?? cells[0];
    const site = adapters.get(low)![0].site;
    const a1 = adapters.get(low)!.find((f) => f.site === site);
    const a2 = adapters.get(high)!.find((f) => f.site === site);
    if (!a1 || !a2) continue;
    const phi = subspaceSimilarity(a1.a, a2.a);
    const rows: number[][] = [];
    for (let i = 0; i < phi.rows; i++) rows.push(Array.from(phi.data.subarray(i * phi.cols, (i + 1) * phi.cols)));
    subspace.push({ site, placement, r1: a1.r, r2: a2.r, phi: rows });
  }
  return { sites, subspace };
}

/** Where the grid's base weights are: the `from` pipeline's merged model, or the checkpoint it loads. */
export function baseWeightsFile(grid: ValidatedPipeline, artifactDir: string | null): string | null {
  const load = grid.pipeline.stages[0];
  if (load.stage !== 'load') return null;
  if (load.checkpoint) return join(grid.dir, load.checkpoint, 'model.safetensors');
  return artifactDir ? join(artifactDir, 'model.safetensors') : null;
}
