/**
 * Runs a workload through the host driver: each queue (fio job) keeps up to iodepth commands in
 * flight; commands are submitted round robin over the queues, one per turn; completions are
 * reaped as the device posts them, timed submit to reap in wall-clock time, and verified.
 *
 * Two commands that touch a common block, one of them changing it, are never in flight together
 * (fio's serialize_overlap): the later one waits. That keeps the expected content of every block
 * well defined, and a trace's overlapping requests in their recorded order.
 *
 * Everything the run decides comes from the seed and the simulated device, never from the wall
 * clock, except where the user asks for time: `runtime`, and a replay that honours arrival times.
 */
import { EpcContractError } from '@epfsim/epc-core';
import { type DsmRange, formatStatus, getBits, ID_CTRL_ONCS, isSuccess, NvmOpcode } from '@epfsim/nvme-spec-types';
import { dsmCommand, flushCommand } from '../../host/driver/nvm-commands.js';
import type { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { PendingCommand } from '../../host/driver/pending-command.js';
import { HostSimConfigError, isNvmeDriverError, isPlacementError } from '../../host/errors.js';
import { createRandom } from '../../host/random.js';
import { BlockPattern } from './block-pattern.js';
import { ioGeometry } from './io-geometry.js';
import { IO_OPS, type IoOp, type IoRequest, requestsConflict } from './io-request.js';
import { GeneratedSource, type IoSource, TraceSource, traceToRequests } from './io-source.js';
import { LatencyRecorder } from './latency-recorder.js';
import { defaultClockNs, defaultSleep, NS_PER_MS, NS_PER_S, yieldToEventLoop } from './run-clock.js';
import { RW_MODE_INFO } from './rw-mode.js';
import { blocksTouched, deallocatedReads, emptyVerify, Verifier, type VerifyRegion } from './verifier.js';
import type { OpCounts, OpMeasured, WorkloadEnd, WorkloadResult } from './workload-result.js';
import type { WorkloadSpec } from './workload-spec.js';

/** Completions between two progress reports. */
const PROGRESS_EVERY = 64;
/** Device steps between two yields to the event loop when the run can be interrupted (a few ms). */
const YIELD_EVERY_STEPS = 1024;
/**
 * Largest region verify keeps a table for (4 bytes a block): 2^25 blocks, 16 GiB of 512-byte
 * blocks, a 128 MiB table.
 */
export const MAX_VERIFIED_BLOCKS = 2 ** 25;

/** A snapshot for progress lines. */
export interface WorkloadProgress {
  readonly ios: number;
  readonly bytes: number;
  readonly errors: number;
  readonly mismatchedBlocks: number;
  readonly elapsedNs: number;
  /** I/Os the run will issue when that is known (a number of I/Os, a trace). */
  readonly plannedIos?: number;
  readonly runtimeMs?: number;
}

export interface WorkloadRunOptions {
  /** Called every few completions (and while a replay waits) with the run so far. */
  readonly onProgress?: (progress: WorkloadProgress) => void;
  /** Wall clock in nanoseconds. Default: performance.now(). */
  readonly clockNs?: () => number;
  /** How a replay that honours arrival times waits. Default: a timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Stops the run when aborted (Ctrl-C): no new I/O is issued, the commands in flight complete,
   * and the result is the run so far (`end: 'interrupted'`). With a signal the run yields to the
   * event loop every few device steps, so that the abort can arrive.
   */
  readonly signal?: AbortSignal;
}

/** One job: a queue and its commands in flight. */
interface Lane {
  readonly index: number;
  readonly qid: number;
  inflight: number;
  /** The stream's next request, held until it may go (per-queue sources). */
  pending: IoRequest | undefined;
  exhausted: boolean;
}

interface InFlight {
  readonly cmd: PendingCommand;
  readonly request: IoRequest;
  readonly lane: Lane;
  readonly startNs: number;
  readonly generation: number;
}

const OPCODE = { read: NvmOpcode.READ, write: NvmOpcode.WRITE } as const;

/** Errors that stop a run but are results, not bugs: the controller (or the host's placement of it) gave out. */
function isRunStoppingError(e: unknown): e is Error {
  return isNvmeDriverError(e) || isPlacementError(e) || e instanceof EpcContractError;
}

/**
 * Runs `spec` on an initialised driver. Throws {@link HostSimConfigError} when the workload does
 * not fit the namespace or controller; a controller that fails during the run ends it with
 * `end: 'error'`.
 */
export async function runWorkload(
  driver: NvmeDriver,
  spec: WorkloadSpec,
  options: WorkloadRunOptions = {},
): Promise<WorkloadResult> {
  return new WorkloadRun(driver, spec, options).run();
}

class WorkloadRun {
  private readonly driver: NvmeDriver;
  private readonly spec: WorkloadSpec;
  private readonly options: WorkloadRunOptions;
  private readonly clockNs: () => number;
  private readonly blockSize: number;
  private readonly source: IoSource;
  private readonly plannedIos: number | undefined;
  private readonly pattern: BlockPattern;
  private readonly verifier: Verifier | undefined;
  private readonly lanes: Lane[];
  private readonly iodepth: number;
  private readonly inflight: InFlight[] = [];
  private readonly latency = new LatencyRecorder();
  private readonly latencyByOp = new Map<IoOp, LatencyRecorder>();
  private readonly counts: Record<IoOp, { ios: number; bytes: number }>;
  private readonly statuses: Record<string, number> = {};
  private errors = 0;
  private ios = 0;
  private bytes = 0;
  /** The shared stream's next request, held until it may go (trace sources). */
  private sharedPending: IoRequest | undefined;
  private sharedExhausted = false;
  private stoppedByRuntime = false;
  /** Device steps since the last yield to the event loop. */
  private stepsSinceYield = 0;
  private nextLane = 0;
  private startNs = 0;
  private seenCompleted = 0;
  private sinceProgress = 0;
  private scratch = new Uint8Array(0);

  constructor(driver: NvmeDriver, spec: WorkloadSpec, options: WorkloadRunOptions) {
    this.driver = driver;
    this.spec = spec;
    this.options = options;
    this.clockNs = options.clockNs ?? defaultClockNs;
    const ns = driver.namespaces.get(spec.nsid);
    if (ns === undefined) throw new HostSimConfigError('BAD_OPTION', `namespace ${spec.nsid} is not active`);
    const limits = { blockSize: ns.blockSize, blocks: Number(ns.nsze), mdtsBytes: driver.controller?.mdtsBytes ?? 0 };
    this.blockSize = ns.blockSize;
    const random = createRandom(spec.seed);
    let region: VerifyRegion;
    let trims: boolean;
    if (spec.kind === 'generate') {
      const geometry = ioGeometry(spec, limits);
      this.source = new GeneratedSource(
        {
          rw: spec.rw,
          geometry,
          rwmixread: spec.rwmixread,
          queues: spec.queues,
          ...(spec.numberIos === undefined ? {} : { numberIos: spec.numberIos }),
        },
        random.fork('workload'),
      );
      this.plannedIos = spec.numberIos === undefined ? undefined : spec.numberIos * spec.queues;
      region = { start: geometry.regionStart, blocks: geometry.regionBlocks };
      trims = RW_MODE_INFO[spec.rw].mix === 'trim';
    } else {
      const trace = spec.numberIos === undefined ? spec.requests : spec.requests.slice(0, spec.numberIos);
      const requests = traceToRequests(trace, limits);
      this.source = new TraceSource(requests);
      this.plannedIos = requests.length;
      region = blocksTouched(requests);
      trims = requests.some((r) => r.op === 'trim');
    }
    if (trims && getBits(driver.controller?.oncs ?? 0, ID_CTRL_ONCS.DSM) === 0) {
      throw new HostSimConfigError('BAD_OPTION', 'the controller does not support Dataset Management (trim)');
    }
    this.pattern = new BlockPattern(ns.blockSize, random.fork('pattern'));
    if (spec.verify) {
      if (region.blocks > MAX_VERIFIED_BLOCKS) {
        throw new HostSimConfigError(
          'BAD_OPTION',
          `verify tracks at most ${MAX_VERIFIED_BLOCKS} blocks; the region has ${region.blocks} (narrow it with size, or do not verify)`,
        );
      }
      this.verifier = new Verifier(this.pattern, region, deallocatedReads(ns.identify.dlfeat), spec.unwritten);
    }
    const { lanes, iodepth } = this.makeLanes();
    this.lanes = lanes;
    this.iodepth = iodepth;
    this.counts = Object.fromEntries(IO_OPS.map((op) => [op, { ios: 0, bytes: 0 }])) as Record<
      IoOp,
      { ios: number; bytes: number }
    >;
  }

  /** One lane per job on the driver's I/O queues; jobs share queues when the controller gave fewer. */
  private makeLanes(): { lanes: Lane[]; iodepth: number } {
    const qids = this.driver.ioQueueIds;
    if (qids.length === 0) throw new HostSimConfigError('BAD_OPTION', 'the controller has no I/O queue');
    const lanes: Lane[] = Array.from({ length: this.spec.queues }, (_, index) => ({
      index,
      qid: qids[index % qids.length] as number,
      inflight: 0,
      pending: undefined,
      exhausted: false,
    }));
    const sharing = Math.ceil(this.spec.queues / qids.length);
    // A ring of N entries holds N − 1 commands.
    const room = Math.min(...qids.map((q) => (this.driver.queue(q)?.depth ?? 1) - 1));
    return { lanes, iodepth: Math.max(1, Math.min(this.spec.iodepth, Math.floor(room / sharing))) };
  }

  async run(): Promise<WorkloadResult> {
    this.startNs = this.clockNs();
    this.seenCompleted = this.driver.stats.completed;
    let error: string | undefined;
    try {
      for (;;) {
        this.fill();
        if (this.inflight.length > 0) {
          this.advanceDevice();
          if (this.options.signal !== undefined && ++this.stepsSinceYield >= YIELD_EVERY_STEPS) {
            this.stepsSinceYield = 0;
            await yieldToEventLoop();
          }
          continue;
        }
        const waitNs = this.waitForArrival();
        if (waitNs === undefined) break;
        this.report();
        await (this.options.sleep ?? defaultSleep)(Math.max(1, Math.ceil(waitNs / NS_PER_MS)));
      }
    } catch (e) {
      if (!isRunStoppingError(e)) throw e;
      error = e.message;
    }
    return this.result(this.clockNs() - this.startNs, error);
  }

  /** Submits while some lane has room and its next request may go, one lane per turn. */
  private fill(): void {
    for (;;) {
      let submitted = false;
      for (let k = 0; k < this.lanes.length && !submitted; k++) {
        const lane = this.lanes[(this.nextLane + k) % this.lanes.length] as Lane;
        if (lane.inflight >= this.iodepth) continue;
        const request = this.take(lane);
        if (request === undefined) continue;
        if (!this.due(request) || this.conflicts(request)) {
          this.hold(lane, request);
          // A trace keeps its order: nothing overtakes the held request.
          if (!this.source.perQueue) return;
          continue;
        }
        this.submit(lane, request);
        this.nextLane = (lane.index + 1) % this.lanes.length;
        submitted = true;
      }
      if (!submitted) return;
    }
  }

  /** The lane's next request: the held one, else a new one from the source (none once the runtime passed). */
  private take(lane: Lane): IoRequest | undefined {
    const held = this.source.perQueue ? lane.pending : this.sharedPending;
    if (held !== undefined) {
      this.hold(lane, undefined);
      return held;
    }
    if (this.stopping || (this.source.perQueue ? lane.exhausted : this.sharedExhausted)) return undefined;
    const { runtimeMs } = this.spec;
    if (runtimeMs !== undefined && this.clockNs() - this.startNs >= runtimeMs * NS_PER_MS) {
      this.stoppedByRuntime = true;
      return undefined;
    }
    const next = this.source.next(lane.index);
    if (next === undefined) {
      if (this.source.perQueue) lane.exhausted = true;
      else this.sharedExhausted = true;
    }
    return next;
  }

  private hold(lane: Lane, request: IoRequest | undefined): void {
    if (this.source.perQueue) lane.pending = request;
    else this.sharedPending = request;
  }

  /** Whether a replay honouring arrival times has reached the request's time. */
  private due(request: IoRequest): boolean {
    if (this.spec.kind !== 'replay' || this.spec.timing !== 'honour') return true;
    return this.clockNs() - this.startNs >= request.timeNs / this.spec.speed;
  }

  private conflicts(request: IoRequest): boolean {
    for (const f of this.inflight) if (requestsConflict(f.request, request)) return true;
    return false;
  }

  /** The runtime passed or the user interrupted: no new I/O. */
  private get stopping(): boolean {
    return this.stoppedByRuntime || this.options.signal?.aborted === true;
  }

  /**
   * With nothing in flight: how long until a held request is due (a replay honouring times), or
   * undefined when the run is over.
   */
  private waitForArrival(): number | undefined {
    if (this.stopping) return undefined;
    const held = this.source.perQueue
      ? this.lanes.map((l) => l.pending).filter((r) => r !== undefined)
      : this.sharedPending === undefined
        ? []
        : [this.sharedPending];
    if (held.length === 0) return undefined;
    if (this.spec.kind !== 'replay') throw new Error('workload: a request is held with nothing in flight');
    const { runtimeMs, speed } = this.spec;
    const elapsed = this.clockNs() - this.startNs;
    const dueNs = Math.min(...held.map((r) => r.timeNs / speed));
    const untilEnd = runtimeMs === undefined ? Number.POSITIVE_INFINITY : runtimeMs * NS_PER_MS - elapsed;
    if (untilEnd <= 0) {
      this.stoppedByRuntime = true;
      return undefined;
    }
    return Math.min(dueNs - elapsed, untilEnd);
  }

  private submit(lane: Lane, request: IoRequest): void {
    const { driver } = this;
    const { nsid } = this.spec;
    const slba = BigInt(request.slba);
    let generation = 0;
    let cmd: PendingCommand;
    const startNs = this.clockNs();
    switch (request.op) {
      case 'read':
        cmd = driver.startIo(OPCODE.read, nsid, slba, request.nlb, undefined, { qid: lane.qid });
        break;
      case 'write': {
        generation = this.verifier?.nextGeneration() ?? 0;
        const payload = this.payload(request.nlb * this.blockSize);
        if (this.verifier !== undefined) this.verifier.fill(payload, request.slba, request.nlb, generation);
        else for (let i = 0; i < request.nlb; i++) this.pattern.stamp(payload, i * this.blockSize, request.slba + i, 0);
        cmd = driver.startIo(OPCODE.write, nsid, slba, request.nlb, payload, { qid: lane.qid });
        break;
      }
      case 'trim': {
        const range: DsmRange = { cattr: 0, nlb: request.nlb, slba };
        cmd = driver.submit(lane.qid, dsmCommand(nsid, [range], { ad: true }));
        break;
      }
      case 'flush':
        cmd = driver.submit(lane.qid, flushCommand(nsid));
        break;
    }
    lane.inflight++;
    this.inflight.push({ cmd, request, lane, startNs, generation });
  }

  /** Scratch for write data: the driver copies it into host memory at submission. */
  private payload(bytes: number): Uint8Array {
    if (this.scratch.length < bytes) this.scratch = new Uint8Array(bytes);
    return this.scratch.subarray(0, bytes);
  }

  /** One device step; reaps what completed. A command past its deadline is handed to the driver's timeout handling. */
  private advanceDevice(): void {
    this.driver.pump();
    if (this.driver.stats.completed === this.seenCompleted) {
      const oldest = this.inflight[0];
      if (oldest === undefined || this.driver.target.now() < oldest.cmd.deadline) return;
      this.driver.wait(oldest.cmd);
    }
    this.seenCompleted = this.driver.stats.completed;
    this.collect();
  }

  private collect(): void {
    const now = this.clockNs();
    let kept = 0;
    for (const f of this.inflight) {
      if (f.cmd.completion === undefined) this.inflight[kept++] = f;
      else this.complete(f, now);
    }
    this.inflight.length = kept;
    if (this.sinceProgress >= PROGRESS_EVERY) this.report();
  }

  private complete(f: InFlight, now: number): void {
    const completion = f.cmd.completion;
    if (completion === undefined) return;
    const { request } = f;
    f.lane.inflight--;
    const ok = completion.source === 'controller' && isSuccess(completion.status);
    const key = formatStatus(completion.status);
    this.statuses[key] = (this.statuses[key] ?? 0) + 1;
    if (!ok) this.errors++;
    const latency = now - f.startNs;
    this.latency.record(latency);
    let perOp = this.latencyByOp.get(request.op);
    if (perOp === undefined) {
      perOp = new LatencyRecorder();
      this.latencyByOp.set(request.op, perOp);
    }
    perOp.record(latency);
    const bytes = request.nlb * this.blockSize;
    const count = this.counts[request.op];
    count.ios++;
    count.bytes += bytes;
    this.ios++;
    this.bytes += bytes;
    this.sinceProgress++;
    const v = this.verifier;
    if (v === undefined) return;
    if (request.op === 'read' && ok) {
      v.check(request.slba, request.nlb, f.cmd.data ?? new Uint8Array(0), f.cmd.layout?.data);
    } else if (request.op === 'write') {
      v.writeDone(request.slba, request.nlb, f.generation, ok);
    } else if (request.op === 'trim') {
      v.trimDone(request.slba, request.nlb, ok);
    }
  }

  private report(): void {
    this.sinceProgress = 0;
    const onProgress = this.options.onProgress;
    if (onProgress === undefined) return;
    onProgress({
      ios: this.ios,
      bytes: this.bytes,
      errors: this.errors,
      mismatchedBlocks: this.verifier?.summary().mismatchedBlocks ?? 0,
      elapsedNs: this.clockNs() - this.startNs,
      ...(this.plannedIos === undefined ? {} : { plannedIos: this.plannedIos }),
      ...(this.spec.runtimeMs === undefined ? {} : { runtimeMs: this.spec.runtimeMs }),
    });
  }

  private result(elapsedNs: number, error: string | undefined): WorkloadResult {
    const seconds = elapsedNs / NS_PER_S;
    const rate = (n: number): number => (seconds > 0 ? n / seconds : 0);
    const byOp: Partial<Record<IoOp, OpMeasured>> = {};
    const counts: Partial<Record<IoOp, OpCounts>> = {};
    for (const op of IO_OPS) {
      const c = this.counts[op];
      counts[op] = { ios: c.ios, bytes: c.bytes };
      const recorder = this.latencyByOp.get(op);
      if (recorder !== undefined)
        byOp[op] = { iops: rate(c.ios), bytesPerSecond: rate(c.bytes), latency: recorder.summary() };
    }
    const end: WorkloadEnd =
      error !== undefined
        ? 'error'
        : this.options.signal?.aborted === true
          ? 'interrupted'
          : this.stoppedByRuntime
            ? 'runtime'
            : this.spec.kind === 'replay'
              ? 'trace-end'
              : 'number-ios';
    return {
      ios: this.ios,
      bytes: this.bytes,
      byOp: counts as Record<IoOp, OpCounts>,
      statuses: { ...this.statuses },
      errors: this.errors,
      verify: this.verifier?.summary() ?? emptyVerify(),
      end,
      ...(error === undefined ? {} : { error }),
      queueIds: this.lanes.map((l) => l.qid),
      iodepth: this.iodepth,
      wallClock: {
        elapsedNs,
        iops: rate(this.ios),
        bytesPerSecond: rate(this.bytes),
        latency: this.latency.summary(),
        byOp,
      },
    };
  }
}
