/** Child process of figure 9: an {@link NbdBenchRequest} in, its {@link NbdBenchResult} out (json-child.ts). */
import { serveJsonChild } from './json-child.js';
import { type NbdBenchRequest, nbdBenchRun } from './nbd-bench.js';

await serveJsonChild((request: NbdBenchRequest) => nbdBenchRun(request.seconds));
