/**
 * docs/qemu-differences.md, rendered from {@link KNOWN_DIFFERENCES}: the repository's document
 * of where epfsim and QEMU 7.2 differ is generated from the list the differential check uses, and
 * a test fails when the file and the list disagree.
 */
import type { NvmeFunctionOptions } from '@epfsim/nvme-epf';
import { KNOWN_DIFFERENCES, type KnownDifference, QEMU_COMPAT_OPTIONS } from './known-differences.js';

/** Where the document lives, from the repository root. */
export const QEMU_DIFFERENCES_DOC = 'docs/qemu-differences.md';

/** The command that rewrites the document from the list. */
export const QEMU_DIFFERENCES_REGENERATE =
  'UPDATE_QEMU_DIFFERENCES=1 npx vitest run --project host-sim test/reference/differential/known-differences.test.ts';

/** `checkPrp1Dword: false, sglSegmentChainEnd: 'lenient'`. */
function formatOptions(options: Readonly<Partial<NvmeFunctionOptions>>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? `'${v}'` : String(v)}`)
    .join(', ');
}

function optionCell(k: KnownDifference): string {
  return k.option === null ? 'none' : `\`${formatOptions(k.option)}\``;
}

/** Escapes the table cell separator. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

function entry(k: KnownDifference): string[] {
  const lines = [
    `### \`${k.id}\`: ${k.title}`,
    '',
    `- Rule: ${k.rule}`,
    `- epfsim (default options, the specification): ${k.epfsim}`,
    `- QEMU 7.2: ${k.qemu}`,
    k.option === null
      ? '- Option reproducing QEMU: none.'
      : `- Option reproducing QEMU: \`{ ${formatOptions(k.option)} }\` (part of \`QEMU_COMPAT_OPTIONS\`).`,
  ];
  if (k.note !== '') lines.push(`- Note: ${k.note}`);
  lines.push(`- Corpus cases: ${k.cases.map((c) => `\`${c}\``).join(', ')}`);
  return lines;
}

/** The whole document, from `list` (default: the known differences). */
export function renderQemuDifferences(list: readonly KnownDifference[] = KNOWN_DIFFERENCES): string {
  const withOption = list.filter((k) => k.option !== null);
  const lines = [
    '# epfsim and QEMU 7.2: known differences',
    '',
    '<!-- Generated from packages/host-sim/src/reference/differential/known-differences.ts by renderQemuDifferences();',
    `     do not edit by hand. Regenerate with: ${QEMU_DIFFERENCES_REGENERATE} -->`,
    '',
    'The differential check (`runDifferential` in `packages/host-sim/src/reference/differential/`) runs a fixed corpus of raw',
    'commands (`DIFFERENTIAL_CORPUS`) on epfsim and on the NVMe controller of QEMU 7.2 (driven over qtest), from the',
    'same starting state and with the same data structures at the same guest-RAM addresses. It compares, command by',
    'command, the completion status (SCT, SC and DNR), DW0 where the command defines it, the data returned, and after',
    'each case the namespace contents (after a Flush). Every difference must match one of the entries below; any',
    'other difference is undocumented and fails the test suite (`packages/host-sim/test/reference/differential/`).',
    '',
    'Rule ids refer to the NVMe rules checklist, [nvme-rules.md](nvme-rules.md), and "case" labels to its QEMU 7.2',
    'observations (§8). epfsim follows the specification by default. Where it has an option that reproduces QEMU, the',
    'option is given; `QEMU_COMPAT_OPTIONS` is their union:',
    '',
    '```ts',
    `{ ${formatOptions(QEMU_COMPAT_OPTIONS)} }`,
    '```',
    '',
    `With these options the corpus shows only the differences that have no option (${list.length - withOption.length} of ${list.length} entries):`,
    'QEMU deviating from the specification, or a choice the specification leaves open that epfsim does not offer.',
    '',
    '| id | rule | what differs | option reproducing QEMU |',
    '| --- | --- | --- | --- |',
    ...list.map((k) => `| \`${k.id}\` | ${cell(k.rule)} | ${cell(k.title)} | ${cell(optionCell(k))} |`),
    '',
    '## Entries',
    '',
  ];
  list.forEach((k, i) => {
    if (i > 0) lines.push('');
    lines.push(...entry(k));
  });
  lines.push('');
  return lines.join('\n');
}
