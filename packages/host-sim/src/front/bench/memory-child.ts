/** Child process of figure 8: a {@link MemoryRunRequest} in, its {@link MemoryRunResult} out (json-child.ts). */
import { serveJsonChild } from './json-child.js';
import { type MemoryRunRequest, memoryRun } from './memory-run.js';

await serveJsonChild((request: MemoryRunRequest) => memoryRun(request.commands));
