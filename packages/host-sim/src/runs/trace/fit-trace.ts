/**
 * Fitting a trace recorded on a large disk onto a small namespace, deterministically: the same
 * trace, capacity and block size always give the same requests.
 *
 * Each request's extent is widened to whole blocks (start rounded down, end rounded up), its
 * first block is folded into the namespace modulo the number of blocks, and its length is clipped
 * at the end of the namespace. Times and operations are kept; a flush passes through unchanged.
 * Folding keeps locality within a capacity-sized window and maps hot regions onto each other,
 * which is what a replay on a small namespace needs; it does not keep the request sizes of
 * requests that wrap past the end (those are clipped, never split).
 */
import type { TraceRequest } from './trace-request.js';

export function fitTrace(requests: readonly TraceRequest[], capacityBytes: number, blockSize: number): TraceRequest[] {
  if (!Number.isSafeInteger(blockSize) || blockSize <= 0)
    throw new RangeError(`fitTrace: block size must be a positive integer, got ${blockSize}`);
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes < blockSize)
    throw new RangeError(`fitTrace: capacity ${capacityBytes} is smaller than one block of ${blockSize} bytes`);
  const blocks = Math.floor(capacityBytes / blockSize);
  return requests.map((r) => {
    if (r.op === 'flush') return r;
    const firstBlock = Math.floor(r.offset / blockSize);
    const endBlock = Math.ceil((r.offset + r.length) / blockSize);
    const start = firstBlock % blocks;
    const count = Math.min(Math.max(endBlock - firstBlock, 1), blocks - start);
    return { timeNs: r.timeNs, op: r.op, offset: start * blockSize, length: count * blockSize };
  });
}
