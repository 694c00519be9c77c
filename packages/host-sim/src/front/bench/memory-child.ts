/** Child process of figure 8: `node memory-child.js COMMANDS` prints a {@link MemoryRunResult} as JSON. */
import { memoryRun } from './memory-run.js';

const commands = Number(process.argv[2]);
if (!Number.isSafeInteger(commands) || commands <= 0) {
  process.stderr.write('usage: memory-child.js COMMANDS\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(memoryRun(commands))}\n`);
