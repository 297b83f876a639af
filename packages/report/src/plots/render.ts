import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { vegaTextWidth } from './text-metrics.js';

/** Shared look: legible sizes, white background, system sans-serif fonts (nothing to download). */
export const PLOT_CONFIG = {
  background: 'white',
  padding: 12,
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start' as const, offset: 10 },
  axis: { labelFontSize: 11, titleFontSize: 12, titlePadding: 10 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleLimit: 320, labelLimit: 260 },
  view: { stroke: null },
} satisfies TopLevelSpec['config'];

/** A vega-lite spec without the fields `renderSvg` fills in. */
export type PlotSpec = TopLevelSpec;

/** PLOT_CONFIG overlaid by a plot's own config, one level deep (so a plot can change axis ticks and keep the font sizes). */
function mergeConfig(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' ? { ...(b as object), ...(v as object) } : v;
  }
  return out;
}

interface TextMetrics {
  width: (item: object, text: unknown) => number;
}

/** Runs `fn` with vega measuring text by DejaVu Sans widths (see text-metrics.ts); restores vega's own afterwards. */
function withTextMetrics<T>(fn: () => T): T {
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  const previous = metrics.width;
  metrics.width = vegaTextWidth;
  try {
    return fn();
  } finally {
    metrics.width = previous;
  }
}

type CompileLogger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/** The Vega runtime spec of a vega-lite spec; vega-lite's warnings become errors (they mean a broken plot). */
function toVega(spec: PlotSpec): vega.Spec {
  const problems: string[] = [];
  const collect = (...m: unknown[]): void => void problems.push(m.join(' '));
  const logger = { level: () => 0, error: collect, warn: collect, info: () => undefined, debug: () => undefined } as unknown as CompileLogger;
  const config = mergeConfig(PLOT_CONFIG as Record<string, unknown>, (spec.config ?? {}) as Record<string, unknown>);
  const compiled = compile({ ...spec, config } as TopLevelSpec, { logger }).spec;
  if (problems.length) throw new Error(`vega-lite: ${problems.join('; ')}`);
  return compiled as vega.Spec;
}

interface ViewInternals {
  _viewWidth: number;
  _viewHeight: number;
  _origin: [number, number];
}
interface HeadlessSvgRenderer {
  initialize(el: null, width: number, height: number, origin: [number, number]): HeadlessSvgRenderer;
  background(color: unknown): HeadlessSvgRenderer;
  render(scene: unknown): HeadlessSvgRenderer;
  svg(): string;
}
type RendererConstructor = new (loader: unknown) => HeadlessSvgRenderer;

/**
 * Renders a vega-lite spec to an SVG string synchronously: vega's headless View (renderer 'none') evaluates the
 * dataflow — synchronous for inline data — and vega's own headless SVG renderer draws the scenegraph with the size
 * and origin that `View.toSVG()` would use. The output equals `await view.toSVG()` (checked by the tests).
 * Text is measured with DejaVu Sans widths instead of vega's 0.8 em-per-character guess.
 */
export function renderSvg(spec: PlotSpec): string {
  return scopeIds(withTextMetrics(() => renderNow(spec)));
}

/**
 * Vega numbers gradients and clip paths from a process-wide counter ("gradient_4"), so two SVGs inlined in one page
 * could define the same id. Prefixes every id (and its url(#…) / href="#…" references) with a hash of the SVG.
 */
export function scopeIds(svg: string): string {
  const ids = [...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  if (ids.length === 0) return svg;
  let h = 0x811c9dc5;
  for (let i = 0; i < svg.length; i++) h = Math.imul(h ^ svg.charCodeAt(i), 0x01000193);
  const prefix = `rw${(h >>> 0).toString(36)}-`;
  const wanted = new Set(ids);
  return svg.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (all, lead: string, id: string) => (wanted.has(id) ? `${lead}${prefix}${id}` : all));
}

function renderNow(spec: PlotSpec): string {
  const view = new vega.View(vega.parse(toVega(spec)), { renderer: 'none' });
  try {
    view.run();
    const internals = view as unknown as Partial<ViewInternals>;
    const { _viewWidth: w, _viewHeight: h, _origin: origin } = internals;
    if (typeof w !== 'number' || typeof h !== 'number' || !Array.isArray(origin)) {
      throw new Error('renderSvg: this vega version no longer exposes the view size; use renderSvgAsync');
    }
    const pad = view.padding() as { top: number; bottom: number; left: number; right: number };
    const module = (vega.renderModule as unknown as (name: string) => { headless?: RendererConstructor } | undefined)('svg');
    if (!module?.headless) throw new Error('renderSvg: vega has no headless SVG renderer');
    const renderer = new module.headless(view.loader())
      .initialize(null, Math.max(0, w + pad.left + pad.right), Math.max(0, h + pad.top + pad.bottom), [pad.left + origin[0], pad.top + origin[1]])
      .background(view.background());
    return renderer.render((view.scenegraph() as unknown as { root: unknown }).root).svg();
  } finally {
    view.finalize();
  }
}

/**
 * The same through vega's public asynchronous API, `View.toSVG()` (a reference for the tests). The text metrics are
 * swapped for the duration of the await, so other vega renders interleaved with it would measure text the same way.
 */
export async function renderSvgAsync(spec: PlotSpec): Promise<string> {
  const metrics = (vega as unknown as { textMetrics: TextMetrics }).textMetrics;
  const previous = metrics.width;
  metrics.width = vegaTextWidth;
  const view = new vega.View(vega.parse(toVega(spec)), { renderer: 'none' });
  try {
    return scopeIds(await view.toSVG());
  } finally {
    view.finalize();
    metrics.width = previous;
  }
}
