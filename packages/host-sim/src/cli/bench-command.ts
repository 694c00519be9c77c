import { parseArgs } from 'node:util';
import { formatBench, runBench } from '../bench/run-bench.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { EXIT_OK } from './usage-error.js';

export const BENCH_HELP = `usage: epfsim bench [--quick] [--json]

Measures the simulator against the machine it runs on, all in one run: the raw copy rate
(the ceiling), 4 KiB random and 128 KiB sequential reads through the whole stack, the same
on rk3588 and rk3399 with adversarial placement, fuzz throughput, map efficiency, scaling
with queues and queue depth, and peak memory of a run spread over the 64-bit space. Each
figure is printed next to its limit, the ratio and its target; the median of several
repetitions after a warm-up.

  --quick   the same figures at smaller counts (under a minute)
  --json    each figure as { value, unit, limit, ratio, target, met }, and the machine
            (docs/json/bench.schema.json)

'npm run bench' runs this command.`;

/** `epfsim bench`: the benchmark figures (progress on stderr, the report on stdout). */
export async function benchCommand(ctx: CommandContext, args: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...args], options: { quick: { type: 'boolean', default: false } } });
  const report = await runBench({
    quick: values.quick,
    progress: ctx.json ? () => {} : (line) => ctx.err(`bench: ${line}`),
  });
  ctx.out(ctx.json ? JSON.stringify({ version: JSON_OUTPUT_VERSION, ...report }, null, 2) : formatBench(report));
  return EXIT_OK;
}
