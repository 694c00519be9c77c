import { parseArgs } from 'node:util';
import { FIGURE_NUMBERS, formatBench, runBench } from '../bench/run-bench.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { parseInteger } from './options.js';
import { EXIT_OK } from './usage-error.js';

export const BENCH_HELP = `usage: epfsim bench [--quick] [--figure N ...] [--json]

Measures the simulator against the machine it runs on, all in one run: the raw copy rate
(the ceiling), 4 KiB random and 128 KiB sequential reads through the whole stack, the same
on rk3588 and rk3399 with adversarial placement, fuzz throughput, map efficiency, scaling
with queues and queue depth, the longest single poll() under hostile commands, and peak
memory of a run spread over the 64-bit space. Each
figure is printed next to its limit, the ratio and its target; the median of several
repetitions after a warm-up.

  --quick      the same figures at smaller counts (under a minute)
  --figure N   only figure N (repeatable; ${FIGURE_NUMBERS[0]}..${FIGURE_NUMBERS.at(-1)}); the raw copy rate is measured when
               a figure is given as a ratio to it
  --json       each figure as { value, unit, limit, ratio, target, met }, and the machine
               (docs/json/bench.schema.json)

'npm run bench' runs this command.`;

/** `epfsim bench`: the benchmark figures (progress on stderr, the report on stdout). */
export async function benchCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { quick: { type: 'boolean', default: false }, figure: { type: 'string', multiple: true } },
  });
  const first = FIGURE_NUMBERS[0];
  const last = FIGURE_NUMBERS[FIGURE_NUMBERS.length - 1] as number;
  const figures = values.figure?.map((f) => parseInteger(f, '--figure', first, last));
  const report = await runBench({
    quick: values.quick,
    ...(figures === undefined ? {} : { figures: new Set(figures) }),
    progress: ctx.json ? () => {} : (line) => ctx.err(`bench: ${line}`),
  });
  ctx.out(ctx.json ? JSON.stringify({ version: JSON_OUTPUT_VERSION, ...report }, null, 2) : formatBench(report));
  return EXIT_OK;
}
