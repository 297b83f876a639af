import type { DataLocation } from '@rankwise/core/plugin';

/**
 * A problem inside a data file, shaped like core's DataError (recognised by `name` and `problem`), so this package
 * needs nothing from core at run time.
 */
export class DataError extends Error {
  constructor(
    readonly location: DataLocation,
    readonly problem: string,
  ) {
    const at = location.line !== undefined ? `:${location.line}` : location.row !== undefined ? ` row ${location.row}` : '';
    super(`${location.file}${at}${location.pointer ? ` ${location.pointer}` : ''}: ${problem}`);
    this.name = 'DataError';
  }
}
