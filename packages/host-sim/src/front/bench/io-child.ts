/** Child process of the I/O figures: reads an {@link IoChildRequest} as JSON on stdin, prints the results as JSON. */
import { readFileSync } from 'node:fs';
import { type IoChildRequest, runIoRequest } from './io-bench.js';

const request = JSON.parse(readFileSync(0, 'utf8')) as IoChildRequest;
process.stdout.write(`${JSON.stringify(runIoRequest(request))}\n`);
