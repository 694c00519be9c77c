/** Child process of figure 5's in-process measurements: a {@link FuzzMeasurement} in, its rate out (json-child.ts). */
import { type FuzzMeasurement, runFuzzMeasurement } from './fuzz-bench.js';
import { serveJsonChild } from './json-child.js';

await serveJsonChild((request: FuzzMeasurement) => runFuzzMeasurement(request));
