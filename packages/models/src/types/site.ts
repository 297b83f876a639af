/** A weight matrix that can take LoRA factors: a Linear, addressed by its dotted path. */
export interface Site {
  /** Dotted path in the model tree, e.g. `layers.1` or `blocks.2.attn.q`. */
  path: string;
  inFeatures: number;
  outFeatures: number;
  /** Index of the layer / block the site belongs to; null for sites outside the repeated stack. */
  layer: number | null;
  /** What the matrix does: `hidden`, `head`, `attn.q`, `attn.k`, `attn.v`, `attn.o`, `mlp.fc`, `mlp.proj`… */
  role: string;
  /** Whether it already carries LoRA factors. */
  adapted: boolean;
}
