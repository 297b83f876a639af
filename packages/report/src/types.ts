import type { Amplification } from './analysis/amplification.js';
import type { IntruderDimensions } from './analysis/intruders.js';
import type { Spectrum } from './analysis/spectrum.js';

/** One point of the expressivity-vs-rank grid: a LoRA run (rank × placement) or the full fine-tuning corner. */
export interface GridCell {
  /** Content hash of the cell. */
  id: string;
  kind: 'lora' | 'full';
  /** LoRA rank; null for full fine-tuning. */
  rank: number | null;
  /** Placement label, e.g. "first layer", "all layers"; "full fine-tuning" for the corner. */
  placement: string;
  /** Variant label (the grid's third axis, e.g. "DoRA"); null or absent without a variant axis and for full fine-tuning. */
  variant?: string | null;
  /** rsLoRA scaling α/√r (else α/r); absent for full fine-tuning. */
  rslora?: boolean;
  /** Training loss at the end of the last train stage (mean of its last logging window). */
  finalLoss?: number;
  alpha: number | null;
  trainableParams: number;
  /** Parameters of the base model. */
  totalParams: number;
  /** 100 · trainableParams / totalParams. */
  percentOfFull: number;
  /** Metrics of the chosen evaluation, e.g. { accuracy: 0.94, loss: 0.2 } or { bitsPerChar: 2.1, perplexity: 4.3, loss: 1.4 }. */
  metrics: Record<string, number>;
  /** One shape for every evaluation: position, label (when the stage has one), stage kind, data, metrics. */
  evaluations: Array<{ index: number; label?: string; stage: string; data: string; metrics: Record<string, number> }>;
  durationMs: number;
  /** Relative to the grid directory. */
  runDir: string;
  /** Reused from an earlier run. */
  cached: boolean;
}

export interface GridResult {
  pipeline: string;
  /** The metric the heatmap colours by. */
  metric: string;
  /** accuracy: true; loss / bitsPerChar / perplexity: false. */
  higherIsBetter: boolean;
  /** x axis order. */
  ranks: number[];
  /** y axis order. */
  placements: string[];
  /** Variant labels in grid order (one heatmap each); absent or empty without a variant axis. */
  variants?: string[];
  /** Label of the evaluation of a retained task (cells' `evaluations[].label`): learning vs forgetting. */
  retained?: string;
  cells: GridCell[];
  createdAt: string;
  backend: string;
  analyses?: GridAnalyses;
  /** Cells that ran and failed (after all their attempts): where they are and why. */
  failed?: FailedGridCell[];
}

/** A grid cell without a result: it ran and failed. */
export interface FailedGridCell {
  id: string;
  kind: 'lora' | 'full';
  rank: number | null;
  placement: string;
  /** The cell's variant, when the grid has a variant axis. */
  variant?: string | null;
  error: string;
}

/** Analyses of one adapted weight matrix ("site", e.g. "layers.0") in one grid cell. */
export interface SiteAnalysis {
  site: string;
  placement: string;
  /** LoRA rank; null for full fine-tuning. */
  rank: number | null;
  variant?: string | null;
  spectrum: Spectrum;
  amplification: Amplification | null;
  /** Intruder dimensions of W + ΔW against W (needs the base weights). */
  intruders?: IntruderDimensions | null;
}

/** φ between the A factors of two runs at the same site (paper Fig. 3), φ[i−1][j−1] for i ≤ r1, j ≤ r2. */
export interface SubspaceComparison {
  site: string;
  placement: string;
  variant?: string | null;
  r1: number;
  r2: number;
  phi: number[][];
  /** The same φ for random factors of the same shapes (chance level), averaged over a few seeded draws. */
  chance?: number[][];
}

export interface GridAnalyses {
  sites: SiteAnalysis[];
  subspace: SubspaceComparison[];
}

/** The placement label of the full fine-tuning corner. */
export const FULL_FINE_TUNING = 'full fine-tuning';
