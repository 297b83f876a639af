/**
 * Text widths for vega's layout without a canvas. Vega's built-in fallback guesses 0.8 em per character, which
 * makes every label, title and legend ~40 % too wide (wasted space, premature ellipses). These are the advance
 * widths of DejaVu Sans (regular and bold; thousandths of an em, read from the font files), the first font the plots
 * ask for; Helvetica and Arial are a little narrower, so text measured here never overflows its space.
 */

/** Advance widths of U+0020..U+007E. */
const REGULAR = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838,
  531, 1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390,
  838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337,
  636, 838,
];
const BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838,
  580, 1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457,
  838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365,
  712, 838,
];
const REGULAR_EXTRA: Record<string, number> = {
  '·': 318,
  '—': 1000,
  '–': 500,
  '…': 1000,
  φ: 660,
  σ: 634,
  Δ: 684,
  '×': 838,
  '‖': 500,
  '²': 401,
  ᵀ: 385,
  ᵢ: 179,
  '₁': 401,
  '≤': 838,
  '≥': 838,
  '∞': 833,
  '★': 896,
  '→': 838,
  '↑': 838,
  '↓': 838,
  é: 615,
  '√': 637,
  Σ: 632,
  µ: 636,
};
const BOLD_EXTRA: Record<string, number> = {
  '·': 380,
  '—': 1000,
  '–': 500,
  '…': 1000,
  φ: 782,
  σ: 779,
  Δ: 774,
  '×': 838,
  '‖': 500,
  '²': 438,
  ᵀ: 430,
  ᵢ: 219,
  '₁': 438,
  '≤': 838,
  '≥': 838,
  '∞': 833,
  '★': 896,
  '→': 838,
  '↑': 838,
  '↓': 838,
  é: 678,
  '√': 667,
  Σ: 683,
  µ: 736,
};

/** The subset of a vega text item that its width depends on. */
export interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

/** Width in px of `text` set in DejaVu Sans at the item's size and weight. */
export function textWidth(text: string, fontSize: number, bold: boolean): number {
  const table = bold ? BOLD : REGULAR;
  const extra = bold ? BOLD_EXTRA : REGULAR_EXTRA;
  let units = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (code >= 32 && code <= 126) units += table[code - 32];
    else units += extra[ch] ?? (code >= 0x2e80 ? 1000 : bold ? 720 : 660);
  }
  return (units / 1000) * fontSize;
}

/**
 * A replacement for vega's `textMetrics.width(item, text)`: the DejaVu width, capped at the item's `limit`
 * (vega truncates such text with an ellipsis to fit the limit, and asks this function for the widths it tries).
 */
export function vegaTextWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const weight = item.fontWeight;
  const bold = weight === 'bold' || weight === 'bolder' || Number(weight) >= 600;
  const w = textWidth(text == null ? '' : String(text).trim(), size, bold);
  return item.limit && item.limit > 0 ? Math.min(w, item.limit) : w;
}
