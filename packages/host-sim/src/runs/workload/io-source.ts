/**
 * Where a workload's I/Os come from: one generator per queue (fio jobs, each its own stream), or a
 * trace, one stream spread over the queues round robin in trace order.
 */
import type { Random } from '../../host/random.js';
import { fitTrace } from '../trace/fit-trace.js';
import type { TraceRequest } from '../trace/trace-request.js';
import { IoGenerator } from './io-generator.js';
import type { IoGeometry } from './io-geometry.js';
import type { IoRequest } from './io-request.js';
import type { RwMode } from './rw-mode.js';

export interface IoSource {
  /** True: each queue has its own stream. False: one stream, handed to the queues in order. */
  readonly perQueue: boolean;
  /** The next request of `queue`'s stream (of the one stream when not per queue); undefined when it ended. */
  next(queue: number): IoRequest | undefined;
}

/** fio jobs: a seeded generator per queue, each stopping after `numberIos` (unbounded when absent). */
export class GeneratedSource implements IoSource {
  readonly perQueue = true;
  private readonly generators: IoGenerator[];
  private readonly issued: number[];
  private readonly limit: number;

  constructor(
    config: { rw: RwMode; geometry: IoGeometry; rwmixread: number; queues: number; numberIos?: number },
    random: Random,
  ) {
    this.generators = Array.from({ length: config.queues }, (_, q) => new IoGenerator(config, random.fork(`job${q}`)));
    this.issued = new Array<number>(config.queues).fill(0);
    this.limit = config.numberIos ?? Number.POSITIVE_INFINITY;
  }

  next(queue: number): IoRequest | undefined {
    const generator = this.generators[queue];
    const issued = this.issued[queue];
    if (generator === undefined || issued === undefined) throw new RangeError(`no job ${queue}`);
    if (issued >= this.limit) return undefined;
    this.issued[queue] = issued + 1;
    return generator.next();
  }
}

/** Most blocks one Dataset Management range names (NLB is 32 bits). */
const MAX_DSM_RANGE_BLOCKS = 0xffff_ffff;

/**
 * A trace fitted onto the namespace ({@link fitTrace}) and cut into commands the controller
 * accepts: reads and writes longer than MDTS become several commands, as the block layer splits
 * them. Times are made relative to the first request.
 */
export function traceToRequests(
  trace: readonly TraceRequest[],
  namespace: { blockSize: number; blocks: number; mdtsBytes: number },
): IoRequest[] {
  const { blockSize } = namespace;
  const fitted = fitTrace(trace, namespace.blocks * blockSize, blockSize);
  const origin = fitted.reduce((t, r) => Math.min(t, r.timeNs), Number.POSITIVE_INFINITY);
  const maxTransfer = namespace.mdtsBytes > 0 ? namespace.mdtsBytes / blockSize : Number.POSITIVE_INFINITY;
  const out: IoRequest[] = [];
  for (const r of fitted) {
    const timeNs = r.timeNs - origin;
    if (r.op === 'flush') {
      out.push({ op: 'flush', slba: 0, nlb: 0, timeNs });
      continue;
    }
    const piece = r.op === 'trim' ? MAX_DSM_RANGE_BLOCKS : maxTransfer;
    const first = r.offset / blockSize;
    const end = first + r.length / blockSize;
    for (let slba = first; slba < end; slba += piece) {
      out.push({ op: r.op, slba, nlb: Math.min(piece, end - slba), timeNs });
    }
  }
  return out;
}

/** A replay: the requests in order, handed to whichever queue has room next. */
export class TraceSource implements IoSource {
  readonly perQueue = false;
  private readonly requests: readonly IoRequest[];
  private position = 0;

  constructor(requests: readonly IoRequest[]) {
    this.requests = requests;
  }

  get length(): number {
    return this.requests.length;
  }

  next(): IoRequest | undefined {
    const r = this.requests[this.position];
    if (r !== undefined) this.position++;
    return r;
  }
}
