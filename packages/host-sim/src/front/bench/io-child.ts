/** Child process of the I/O figures: an {@link IoChildRequest} in, its results out (json-child.ts). */
import { type IoChildRequest, runIoRequest } from './io-bench.js';
import { serveJsonChild } from './json-child.js';

await serveJsonChild((request: IoChildRequest) => runIoRequest(request));
