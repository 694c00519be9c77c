/** Summaries of a differential report: the agreement rate and a printable account of every difference. */
import { formatDifference } from './outcome.js';
import type { DifferentialReport } from './runner.js';

/** Case agreement: cases agreeing / total. */
export interface AgreementRate {
  readonly total: number;
  /** Cases with no difference. */
  readonly agreeing: number;
  /** Cases with no difference, or only known ones. */
  readonly explained: number;
  /** Cases with at least one undocumented difference. */
  readonly undocumented: number;
  /** agreeing / total (1 for an empty run). */
  readonly rate: number;
  /** `85/109 cases agree (78.0%); 24 differ only in known ways; 0 have undocumented differences`. */
  readonly text: string;
}

/** Cases agreeing / total, and how many of the others differ only in known ways. */
export function agreementRate(report: Pick<DifferentialReport, 'cases'>): AgreementRate {
  const total = report.cases.length;
  const agreeing = report.cases.filter((c) => c.agrees).length;
  const explained = report.cases.filter((c) => c.explained).length;
  const undocumented = total - explained;
  const rate = total === 0 ? 1 : agreeing / total;
  const text =
    `${agreeing}/${total} cases agree (${(rate * 100).toFixed(1)}%); ` +
    `${explained - agreeing} differ only in known ways; ${undocumented} have undocumented differences`;
  return { total, agreeing, explained, undocumented, rate, text };
}

/** The report as lines: the agreement rate, then each difference (undocumented ones first). */
export function formatDifferentialReport(report: DifferentialReport): string[] {
  const ordered = [...report.undocumented, ...report.differences.filter((d) => d.known !== undefined)];
  return [`epfsim vs QEMU: ${agreementRate(report).text}`, ...ordered.map(formatDifference)];
}
