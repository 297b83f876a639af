/**
 * FLOPs per step from the shapes (multiply-add = 2 FLOPs), counting matrix products only — they are > 95 % of the
 * arithmetic here. Training a weight costs 3× its forward product (forward, input gradient, weight gradient); a
 * frozen weight costs 2× (forward, input gradient: LoRA still needs gradients to flow through it).
 */
export interface MatmulSite {
  inFeatures: number;
  outFeatures: number;
  /** LoRA rank on this site, 0 when not adapted. */
  rank: number;
}

/** rows = batch (MLP) or batch·context (GPT) */
export function trainFlops(rows: number, sites: MatmulSite[], full: boolean): number {
  let flops = 0;
  for (const s of sites) {
    const base = 2 * rows * s.inFeatures * s.outFeatures;
    flops += full ? 3 * base : 2 * base;
    if (!full && s.rank > 0) flops += 3 * 2 * rows * s.rank * (s.inFeatures + s.outFeatures);
  }
  return flops;
}

export function forwardFlops(rows: number, sites: MatmulSite[], unmerged: boolean): number {
  let flops = 0;
  for (const s of sites) {
    flops += 2 * rows * s.inFeatures * s.outFeatures;
    if (unmerged && s.rank > 0) flops += 2 * rows * s.rank * (s.inFeatures + s.outFeatures);
  }
  return flops;
}

/** Attention scores and mixing: per layer, Q·Kᵀ and A·V are 2·B·T²·C each forward (×3 when training). */
export function attentionFlops(batch: number, context: number, dim: number, layers: number, training: boolean): number {
  return (training ? 3 : 1) * layers * 2 * 2 * batch * context * context * dim;
}
