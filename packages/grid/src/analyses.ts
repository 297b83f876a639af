import { join } from 'node:path';
import { loraScaling, readSafetensorsFile, type ValidatedPipeline } from '@rankwise/core';
import { readAdapter } from '@rankwise/formats';
import {
  add,
  analyzeLoraSite,
  analyzeSite,
  chanceSubspaceSimilarity,
  compareSubspaces,
  doraDelta,
  intruderDimensions,
  loraDelta,
  subtract,
  svd,
  transpose,
  type GridAnalyses,
  type Matrix,
  type SiteAnalysis,
  type SubspaceComparison,
  type Svd,
} from '@rankwise/report';
import type { CellOutcome } from './run-cells.js';

interface AdapterFactors {
  site: string;
  /** A [in, r] and B [r, out], rankwise layout; ΔW = scaling·A·B. */
  a: Matrix;
  b: Matrix;
  scaling: number;
  /** DoRA's m [out]; null without DoRA. */
  magnitude: Float32Array | null;
}

/** A PEFT-layout adapter's factors in rankwise layout: lora_A.weight [r, in] = Aᵀ, lora_B.weight [out, r] = Bᵀ. */
async function adapterFactors(dir: string): Promise<AdapterFactors[]> {
  return (await readAdapter(dir)).map((s) => ({
    site: s.path,
    a: transpose({ rows: s.r, cols: s.inFeatures, data: s.loraA }), // [r, in] → [in, r]
    b: transpose({ rows: s.outFeatures, cols: s.r, data: s.loraB }), // [out, r] → [r, out]
    scaling: loraScaling(s),
    magnitude: s.magnitude,
  }));
}

async function readWeights(file: string): Promise<Map<string, Matrix>> {
  const { tensors } = await readSafetensorsFile(file);
  const out = new Map<string, Matrix>();
  for (const [name, t] of tensors)
    if (name.endsWith('.weight') && t.shape.length === 2) out.set(name.slice(0, -'.weight'.length), { rows: t.shape[0], cols: t.shape[1], data: t.data });
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
  const baseSvd = new Map<string, Svd>();
  /** Intruder dimensions of W + ΔW against W (one SVD of each W, cached). */
  const intruders = (site: string, w: Matrix | undefined, tuned: () => Matrix) => {
    if (!w) return null;
    let pretrained = baseSvd.get(site);
    if (!pretrained) baseSvd.set(site, (pretrained = svd(w)));
    return intruderDimensions(w, tuned(), 10, 0.5, pretrained);
  };
  const adapters = new Map<CellOutcome, AdapterFactors[]>();
  const topRank = Math.max(...outcomes.map((o) => o.cell.plan.rank ?? 0), 1); // r for full fine-tuning (capped at min(rows, cols))
  for (const outcome of outcomes) {
    if (!outcome.summary) continue;
    const { plan } = outcome.cell;
    if (plan.kind === 'lora') {
      const factors = await adapterFactors(join(outcome.cell.dir, 'adapter'));
      adapters.set(outcome, factors);
      for (const f of factors) {
        const w = base.get(f.site);
        const variant = plan.variant;
        if (f.magnitude) {
          // DoRA rescales W's columns: its update is not s·A·B, and without W it cannot be formed.
          if (w) {
            const delta = doraDelta(w, f.a, f.b, f.scaling, f.magnitude);
            sites.push({
              ...analyzeSite({ site: f.site, placement: plan.placement, rank: f.a.cols, delta, w }),
              variant,
              intruders: intruders(f.site, w, () => add(w, delta)),
            });
          }
        } else {
          const tuned = () => add(w as Matrix, loraDelta(f.a, f.b, f.scaling));
          sites.push({
            ...analyzeLoraSite({ site: f.site, placement: plan.placement, a: f.a, b: f.b, scaling: f.scaling, w }),
            variant,
            intruders: intruders(f.site, w, tuned),
          });
        }
      }
    } else if (base.size > 0) {
      const tuned = await readWeights(join(outcome.cell.dir, 'merged', 'model.safetensors'));
      for (const [site, w] of base) {
        const after = tuned.get(site);
        if (after)
          sites.push({
            ...analyzeSite({ site, placement: plan.placement, rank: null, delta: subtract(after, w), w, r: topRank }),
            intruders: intruders(site, w, () => after),
          });
      }
    }
  }
  const subspace: SubspaceComparison[] = [];
  const groups = new Map<string, { placement: string; variant: string | null }>();
  for (const o of outcomes)
    if (o.cell.plan.kind === 'lora')
      groups.set(`${o.cell.plan.placement}\u0000${o.cell.plan.variant ?? ''}`, { placement: o.cell.plan.placement, variant: o.cell.plan.variant });
  for (const { placement, variant } of groups.values()) {
    const cells = outcomes
      .flatMap((o) => {
        const factors = adapters.get(o);
        return factors && o.cell.plan.placement === placement && o.cell.plan.variant === variant ? [{ rank: o.cell.plan.rank ?? 0, factors }] : [];
      })
      .sort((x, y) => x.rank - y.rank);
    if (cells.length < 2) continue;
    const high = cells[cells.length - 1];
    const low = cells.find((c) => c.rank === 8 && c !== high) ?? cells[0];
    const a1 = low.factors[0]; // readAdapter never returns an empty adapter
    const a2 = high.factors.find((f) => f.site === a1.site);
    if (!a2) continue;
    subspace.push({ ...compareSubspaces(a1.site, placement, a1.a, a2.a), variant, chance: chanceSubspaceSimilarity(a1.a.rows, a1.a.cols, a2.a.cols) });
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
