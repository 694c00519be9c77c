/** `npm run bench`: prints every figure next to its limit; `--quick` for a short run, `--json` for data. */
import { parseArgs } from 'node:util';
import { formatBench, runBench } from './run-bench.js';

const { values } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
});
const report = runBench({
  quick: values.quick,
  progress: values.json ? () => {} : (line) => process.stderr.write(`bench: ${line}\n`),
});
process.stdout.write(`${values.json ? JSON.stringify(report, null, 2) : formatBench(report)}\n`);
