/** One benchmark figure, printed next to its limit and target (`--json` prints these objects). */
export interface Figure {
  readonly id: string;
  readonly title: string;
  readonly value: number;
  readonly unit: string;
  /** The ceiling this figure is measured against, in the same unit, when there is one. */
  readonly limit: number | null;
  /** value / limit. */
  readonly ratio: number | null;
  /** What the project promises: `ratio >= target` (or `value <= target` when `targetIsMax`). */
  readonly target: number | null;
  readonly targetIsMax?: boolean;
  readonly met: boolean | null;
  readonly note?: string;
}

/** A figure that could not be measured here (a tool missing), saying why; it has no verdict. */
export function skippedFigure(id: string, title: string, unit: string, why: string): Figure {
  return figure({ id, title, value: 0, unit, limit: null, target: null, note: `SKIPPED: ${why}` });
}

export function figure(f: Omit<Figure, 'ratio' | 'met'> & { readonly targetOn?: 'ratio' | 'value' }): Figure {
  const ratio = f.limit === null || f.limit === 0 ? null : f.value / f.limit;
  const subject = f.targetOn === 'value' ? f.value : ratio;
  const met =
    f.target === null || subject === null ? null : f.targetIsMax === true ? subject <= f.target : subject >= f.target;
  const { targetOn: _unused, ...rest } = f;
  return { ...rest, ratio, met };
}
