/** Colours and shapes shared by the plots (colour-blind-safe Tableau 10 for categories). */
export const CATEGORY_COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#b07aa1', '#edc948', '#9c755f', '#ff9da7', '#bab0ac'];
export const FULL_COLOR = '#000000';
export const CATEGORY_SHAPES = ['circle', 'square', 'diamond', 'triangle-up', 'triangle-down', 'cross'];
/** A five-pointed star as an SVG path in the unit square (vega shapes accept paths). */
export const STAR = 'M0,-1L0.2245,-0.309L0.9511,-0.309L0.3633,0.118L0.5878,0.809L0,0.382L-0.5878,0.809L-0.3633,0.118L-0.9511,-0.309L-0.2245,-0.309Z';
export const DASHES: number[][] = [
  [1, 0],
  [7, 3],
  [2, 2],
  [9, 3, 2, 3],
  [4, 4],
  [12, 4],
];

export function categoryColor(i: number): string {
  return CATEGORY_COLORS[i % CATEGORY_COLORS.length];
}

/** n colours along viridis (dark purple → yellow-green), for ordered categories such as ranks. */
export function sequentialColors(n: number): string[] {
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [190, 215, 40],
  ];
  return Array.from({ length: n }, (_, i) => {
    const t = n === 1 ? 0 : (i / (n - 1)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    const c = stops[k].map((v, j) => Math.round(v + (stops[k + 1][j] - v) * f));
    return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
  });
}
