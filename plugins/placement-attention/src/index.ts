import { definePlacementPlugin, PlacementError, type PlacementChoice, type Site } from '@rankwise/core/plugin';

const ATTENTION = ['q', 'k', 'v', 'o'] as const;
const MLP = ['fc', 'proj'] as const;

export interface AttentionOptions {
  /** Attention matrices to adapt (the LoRA paper's W_q, W_k, W_v, W_o). Default ["q", "v"], as in the paper. */
  matrices?: string[];
  /** Also adapt the MLP: true for fc and proj, or a list of them. Default false. */
  mlp?: boolean | string[];
  /** Also adapt the output head (when the model has an untied one). Default false. */
  head?: boolean;
  /** Only these block indices (default: every block). */
  layers?: number[];
}

/** Roles present in the model, for error messages. */
const rolesOf = (sites: readonly Site[]): string[] => [...new Set(sites.map((s) => s.role))].sort();

/**
 * Chooses sites by role (`attn.q`, `mlp.fc`, `head`…), never by name, so it works for any model that labels its
 * sites: the LoRA paper's question "which of W_q, W_k, W_v, W_o, and at which layers".
 */
export default definePlacementPlugin<AttentionOptions>({
  name: '@rankwise/placement-attention',
  description: 'choose transformer sites by role: attention matrices q/k/v/o, the MLP, the head, and layers',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      matrices: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', minLength: 1 },
        description: 'Attention matrices to adapt: q, k, v, o (default q and v, as in the LoRA paper).',
      },
      mlp: {
        oneOf: [{ type: 'boolean' }, { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 } }],
        'x-allowed': 'true, false, or a list of MLP matrices ("fc", "proj")',
        description: 'Also adapt the MLP: true for both matrices, or a list of "fc", "proj".',
      },
      head: { type: 'boolean', description: 'Also adapt the output head.' },
      layers: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 0 }, description: 'Only blocks whose index is listed.' },
    },
  },
  select(sites: readonly Site[], options: AttentionOptions): PlacementChoice[] {
    const present = rolesOf(sites);
    const want = new Set<string>();
    const matrices = options.matrices ?? ['q', 'v'];
    matrices.forEach((m, i) => {
      if (!(ATTENTION as readonly string[]).includes(m)) {
        throw new PlacementError(`unknown attention matrix "${m}"; allowed: ${ATTENTION.join(', ')}`, `/matrices/${i}`);
      }
      want.add(`attn.${m}`);
    });
    const mlp = options.mlp === true ? [...MLP] : options.mlp === false || options.mlp === undefined ? [] : options.mlp;
    mlp.forEach((m, i) => {
      if (!(MLP as readonly string[]).includes(m)) throw new PlacementError(`unknown MLP matrix "${m}"; allowed: ${MLP.join(', ')}`, `/mlp/${i}`);
      want.add(`mlp.${m}`);
    });
    if (options.head) want.add('head');
    for (const role of want) {
      if (!present.includes(role)) {
        const pointer = role === 'head' ? '/head' : role.startsWith('mlp.') ? '/mlp' : '/matrices';
        const why = role === 'head' ? 'the model has no separate head site (is the head tied to the embedding?)' : `the model has no "${role}" sites`;
        throw new PlacementError(`${why}; roles in this model: ${present.join(', ')}`, pointer);
      }
    }
    const layerIndices = [...new Set(sites.map((s) => s.layer).filter((l): l is number => l !== null))].sort((a, b) => a - b);
    options.layers?.forEach((layer, i) => {
      if (!layerIndices.includes(layer)) {
        throw new PlacementError(
          `layer ${layer} is out of range; the model has layers ${layerIndices[0]}–${layerIndices[layerIndices.length - 1]}`,
          `/layers/${i}`,
        );
      }
    });
    return sites
      .filter((s) => want.has(s.role))
      .filter((s) => options.layers === undefined || s.role === 'head' || (s.layer !== null && options.layers.includes(s.layer)))
      .map((s) => ({ path: s.path }));
  },
});
