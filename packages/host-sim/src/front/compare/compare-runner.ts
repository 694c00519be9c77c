/** Runs every cell of a matrix in order and builds the report; progress goes to a callback. */
import { type CompareCell, type CompareMatrix, matrixCells } from './compare-matrix.js';
import { buildReport, type CompareReport } from './compare-report.js';
import { type CellResult, runCell } from './run-cell.js';

/** Where the comparison is, for progress lines. */
export interface CompareProgress {
  /** Cells finished. */
  readonly cellsDone: number;
  readonly cells: number;
  /** The cell running now. */
  readonly cell: CompareCell;
  /** I/Os done in it. */
  readonly ios: number;
  readonly elapsedMs: number;
}

export interface CompareRunOptions {
  readonly onProgress?: (progress: CompareProgress) => void;
  /** Wall clock in milliseconds. Default: performance.now(). */
  readonly clockMs?: () => number;
}

export async function runCompare(matrix: CompareMatrix, options: CompareRunOptions = {}): Promise<CompareReport> {
  const clock = options.clockMs ?? (() => performance.now());
  const start = clock();
  const cells = matrixCells(matrix);
  const results: CellResult[] = [];
  for (const cell of cells) {
    const report = (ios: number) =>
      options.onProgress?.({ cellsDone: results.length, cells: cells.length, cell, ios, elapsedMs: clock() - start });
    report(0);
    results.push(await runCell(cell, { ios: matrix.ios, seed: matrix.seed, onProgress: (p) => report(p.ios) }));
  }
  return buildReport(matrix, results, clock() - start);
}
