import { FULL_FINE_TUNING, type GridCell, type GridResult } from '../types.js';

/** Throws an Error naming the problem unless `result` is a consistent grid. */
export function validateGridResult(result: GridResult): void {
  if (result === null || typeof result !== 'object') throw new TypeError('grid result: expected an object');
  if (typeof result.metric !== 'string' || result.metric === '') throw new TypeError('grid result: metric must be a non-empty string');
  if (typeof result.higherIsBetter !== 'boolean') throw new TypeError('grid result: higherIsBetter must be a boolean');
  if (!Array.isArray(result.ranks) || result.ranks.length === 0) throw new TypeError('grid result: ranks must be a non-empty array');
  if (!Array.isArray(result.placements)) throw new TypeError('grid result: placements must be an array');
  if (!Array.isArray(result.cells) || result.cells.length === 0) throw new TypeError('grid result: cells must be a non-empty array');
  result.ranks.forEach((r) => {
    if (!Number.isInteger(r) || r < 1) throw new RangeError(`grid result: rank ${r} is not a positive integer`);
  });
  const duplicateRank = result.ranks.find((r, i) => result.ranks.indexOf(r) !== i);
  if (duplicateRank !== undefined) throw new RangeError(`grid result: rank ${duplicateRank} is listed twice in ranks`);
  result.placements.forEach((p) => {
    if (typeof p !== 'string' || p === '') throw new TypeError(`grid result: placement ${JSON.stringify(p)} is not a non-empty string`);
  });
  const duplicatePlacement = result.placements.find((p, i) => result.placements.indexOf(p) !== i);
  if (duplicatePlacement !== undefined) throw new RangeError(`grid result: placement "${duplicatePlacement}" is listed twice in placements`);

  const variants = result.variants ?? [];
  if (!Array.isArray(variants)) throw new TypeError('grid result: variants must be an array');
  const duplicateVariant = variants.find((v, i) => variants.indexOf(v) !== i);
  if (duplicateVariant !== undefined) throw new RangeError(`grid result: variant "${duplicateVariant}" is listed twice in variants`);
  const seen = new Map<string, string>();
  let fullCells = 0;
  result.cells.forEach((cell, index) => {
    validateCell(result, cell, index);
    if (cell.kind === 'full') fullCells++;
    if (cell.kind === 'lora' && variants.length > 0 && !variants.includes(cell.variant ?? '')) {
      throw new RangeError(
        `grid result: ${cellName(cell, index)} has variant ${JSON.stringify(cell.variant ?? null)}, which is not in variants [${variants.map((v) => `"${v}"`).join(', ')}]`,
      );
    }
    if (cell.kind === 'lora' && variants.length === 0 && cell.variant)
      throw new RangeError(`grid result: ${cellName(cell, index)} has variant "${cell.variant}" but the grid lists no variants`);
    const key = cell.kind === 'full' ? 'full' : `${cell.placement}\u0000${cell.rank}\u0000${cell.variant ?? ''}`;
    const other = seen.get(key);
    if (other !== undefined) {
      const where =
        cell.kind === 'full' ? FULL_FINE_TUNING : `placement "${cell.placement}", rank ${cell.rank}${cell.variant ? `, variant "${cell.variant}"` : ''}`;
      throw new RangeError(`grid result: cells ${other} and ${cellName(cell, index)} are both at ${where}`);
    }
    seen.set(key, cellName(cell, index));
  });
  if (fullCells > 1) throw new RangeError(`grid result: ${fullCells} full fine-tuning cells; expected at most one`);
  if (!result.cells.some((c) => Number.isFinite(c.metrics?.[result.metric]))) {
    const names = [...new Set(result.cells.flatMap((c) => Object.keys(c.metrics ?? {})))];
    throw new RangeError(`grid result: no cell has a value for metric "${result.metric}"; the cells have: ${names.join(', ') || 'no metrics'}`);
  }
}

function validateCell(result: GridResult, cell: GridCell, index: number): void {
  const name = cellName(cell, index);
  if (cell === null || typeof cell !== 'object') throw new TypeError(`grid result: cell ${index} is not an object`);
  if (cell.kind !== 'lora' && cell.kind !== 'full')
    throw new TypeError(`grid result: ${name} has kind ${JSON.stringify(cell.kind)}; expected "lora" or "full"`);
  if (cell.kind === 'lora') {
    if (!result.ranks.includes(cell.rank as number)) {
      throw new RangeError(`grid result: ${name} has rank ${cell.rank}, which is not in ranks [${result.ranks.join(', ')}]`);
    }
    if (!result.placements.includes(cell.placement) || cell.placement === FULL_FINE_TUNING) {
      throw new RangeError(
        `grid result: ${name} has placement "${cell.placement}", which is not in placements [${result.placements.map((p) => `"${p}"`).join(', ')}]`,
      );
    }
  } else if (cell.rank !== null) {
    throw new RangeError(`grid result: ${name} is full fine-tuning but has rank ${cell.rank}; expected null`);
  }
  for (const key of ['trainableParams', 'totalParams', 'percentOfFull', 'durationMs'] as const) {
    if (!Number.isFinite(cell[key]) || cell[key] < 0) throw new RangeError(`grid result: ${name} has ${key} = ${cell[key]}; expected a finite number ≥ 0`);
  }
  if (cell.totalParams === 0) throw new RangeError(`grid result: ${name} has totalParams = 0`);
  if (cell.metrics === null || typeof cell.metrics !== 'object') throw new TypeError(`grid result: ${name} has no metrics object`);
}

function cellName(cell: GridCell, index: number): string {
  return `cell ${index}${cell && typeof cell.id === 'string' ? ` (${cell.id})` : ''}`;
}
