/** Child process of figure 9: `node nbd-bench-child.js SECONDS` prints an {@link NbdBenchResult} as JSON. */
import { nbdBenchRun } from './nbd-bench.js';

const seconds = Number(process.argv[2]);
if (!Number.isSafeInteger(seconds) || seconds <= 0) {
  process.stderr.write('usage: nbd-bench-child.js SECONDS\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await nbdBenchRun(seconds))}\n`);
