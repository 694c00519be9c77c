/**
 * The NVMe controller as an endpoint function (NVMe Base 1.4 §3 and §7; the Linux function is
 * drivers/nvme/target/pci-epf.c): the scheduler. It sees the host only the way the real function
 * does: BAR0 is memory it polls, and host memory is reached through the EPC with the configured
 * strategy. It builds the services command handlers use and hands them narrow contexts
 * (command/context.ts), never itself.
 *
 * {@link NvmeController.poll} is one step: CC edges (scheduler/cc-state-machine.ts), CQ head
 * doorbells posting completions that waited for room and doorbells of queues that do not exist
 * (scheduler/doorbells.ts, scheduler/completions.ts), then one arbitration round over the SQs
 * (scheduler/arbitration.ts), interrupt coalescing timers and pending MSI-X messages.
 */
import { type Epc, type EpcMap, strategyFor, type TransferStrategy } from '@epfsim/epc-core';
import { mpsToPageSize, NVME_VS_2_0, SQE_SIZE } from '@epfsim/nvme-spec-types';
import { AsyncEvents } from './admin/async-events.js';
import { buildCommandEffectsLog } from './admin/command-effects.js';
import { FeatureState } from './admin/features.js';
import { IdentifyCache } from './admin/identify-cache.js';
import type { AdminContext, IoContext } from './command/context.js';
import { RequestPool } from './command/request.js';
import type { NvmeFunctionConfig } from './config.js';
import type { DataPointerOptions } from './data-pointer/index.js';
import { functionFaultFlags } from './faults/catalogue.js';
import { ErrorLog } from './health/error-log.js';
import { SmartCounters } from './health/smart.js';
import { TemperatureEvents } from './health/temperature-events.js';
import { Interrupts } from './interrupts.js';
import { Namespace } from './namespace/namespace.js';
import type { CompletionQueue } from './queues/completion-queue.js';
import { QueueManager } from './queues/queue-manager.js';
import { type Bar0Layout, computeBar0Layout } from './registers/bar0-layout.js';
import { capabilities, MPSMIN, NVME_BAR } from './registers/capabilities.js';
import { RegisterFile } from './registers/register-file.js';
import { Arbitration, FETCH_ENTRIES } from './scheduler/arbitration.js';
import { CcStateMachine } from './scheduler/cc-state-machine.js';
import { Completions } from './scheduler/completions.js';
import { Doorbells } from './scheduler/doorbells.js';
import { ResumableRunner } from './scheduler/resumable-runner.js';
import { type ControllerState, RunState } from './scheduler/run-state.js';
import { WorkBudget } from './scheduler/work-budget.js';
import { type FunctionStats, newStats } from './stats.js';
import { TraceRing } from './trace.js';
import { BounceBuffers } from './transfer/bounce-buffers.js';
import { CommandData } from './transfer/command-data.js';
import { HostPort } from './transfer/host-port.js';

/** MSI offers at most 32 vectors, a power of two (PCI Local Bus 3.0 §6.8.1.3). */
const MSI_MAX_VECTORS = 32;

export class NvmeController {
  readonly layout: Bar0Layout;
  readonly trace = new TraceRing();
  readonly stats: FunctionStats = newStats();
  readonly #namespaces: readonly Namespace[];
  readonly #regs: RegisterFile;
  readonly #run: RunState;
  readonly #work: WorkBudget;
  readonly #interrupts: Interrupts;
  readonly #aer: AsyncEvents;
  readonly #smart: SmartCounters;
  readonly #queues: QueueManager;
  readonly #doorbells: Doorbells;
  readonly #arbitration: Arbitration;
  readonly #cc: CcStateMachine;
  /** A new CQ head: post what waited for room (made once, so a poll allocates nothing). */
  readonly #onCqHead: (cq: CompletionQueue) => number;
  readonly #isReady = (): boolean => this.#run.ready;
  #closed = false;

  constructor(epc: Epc, config: NvmeFunctionConfig) {
    const faults = functionFaultFlags(config.faults);
    const stats = this.stats;
    const trace = this.trace;
    const port = new HostPort(epc, strategyFor(config.strategy) as TransferStrategy);
    const profileIrq = epc.profile.irq;
    const useMsix = config.irq === 'msix' && profileIrq.msix;
    const useMsi = config.irq !== 'intx' && profileIrq.msi;
    this.layout = computeBar0Layout(config.maxIoQueues, config.dstrd, useMsix ? config.msixVectors : 0);
    const bar = epc.setBar(NVME_BAR, this.layout.size);
    if (useMsix) {
      epc.setMsix(config.msixVectors, NVME_BAR, this.layout.msixTableOffset!, this.layout.msixPbaOffset!);
    }
    const msiVectors = Math.min(MSI_MAX_VECTORS, 2 ** Math.ceil(Math.log2(config.maxIoQueues + 1)));
    if (useMsi) epc.setMsi(msiVectors);
    const regs = new RegisterFile(bar, capabilities(config), NVME_VS_2_0);
    this.#regs = regs;
    const namespaces = config.namespaces.map((ns, i) => new Namespace(i + 1, ns, config.serial));
    this.#namespaces = namespaces;
    const vectors = useMsix ? config.msixVectors : useMsi ? msiVectors : 1;
    const interrupts = new Interrupts(epc, vectors, { msix: useMsix, msi: useMsi }, stats, trace, config.now);
    this.#interrupts = interrupts;
    const features = new FeatureState(config);
    const aer = new AsyncEvents((cid, status, dw0) => {
      const adminSq = queues.sqs[0];
      if (adminSq !== undefined) completions.complete(adminSq, cid, status, dw0);
    });
    this.#aer = aer;
    const smart = new SmartCounters(config.now());
    this.#smart = smart;
    const errorLog = new ErrorLog();
    const run = new RunState(regs, stats, trace);
    this.#run = run;
    const work = new WorkBudget(epc);
    this.#work = work;
    const o = config.options;
    const dataPointer: DataPointerOptions = {
      pageSize: mpsToPageSize(MPSMIN),
      sgl: { support: o.sglSupport, bitBucket: o.sglBitBucket, excessLength: o.sglExcessLength },
      checkPrp1Dword: o.checkPrp1Dword,
      checkListQword: o.checkPrpListQword,
      chainPointerOffset: o.prpChainPointerOffset,
      segmentChainEnd: o.sglSegmentChainEnd,
      bitBucketOnWrite: o.bitBucketOnWrite,
      acceptShortSegments: faults.shortSglSegmentAccepted,
    };
    const data = new CommandData(port, dataPointer, config.mdtsBytes, stats, trace);
    const buffers = new BounceBuffers(config.mdtsBytes);
    const fetch = new Uint8Array(FETCH_ENTRIES * SQE_SIZE);
    const requests = new RequestPool(new DataView(fetch.buffer), buffers);
    const completions = new Completions({ port, regs, interrupts, errorLog, stats, trace, faults, buffers, run });
    this.#onCqHead = (cq) => completions.flushDeferred(cq);
    const resumables = new ResumableRunner(requests, completions);
    const doorbells = new Doorbells({
      regs,
      layout: this.layout,
      dstrd: config.dstrd,
      faults,
      errorLog,
      aer,
      stats,
      trace,
    });
    this.#doorbells = doorbells;
    const queues = new QueueManager({
      epc,
      port,
      regs,
      maxIoQueues: config.maxIoQueues,
      queuePairs: this.layout.queuePairs,
      faults,
      interrupts,
      stats,
      trace,
      run,
      doorbells,
      completions,
      resumables,
    });
    this.#queues = queues;
    const temperature = new TemperatureEvents(features, aer, stats);
    const namespace = (nsid: number): Namespace | undefined => namespaces[nsid - 1];
    const io: IoContext = { namespaces, namespace, config, data, work, resumables, features, smart };
    const admin: AdminContext = {
      namespaces,
      namespace,
      config,
      faults,
      data,
      queues,
      completer: completions,
      features,
      temperatureChanged: () => temperature.check(),
      interrupts,
      aer,
      errorLog,
      smart,
      identify: new IdentifyCache(config, namespaces),
      commandEffectsLog: buildCommandEffectsLog(),
    };
    this.#arbitration = new Arbitration({
      queues,
      doorbells,
      features,
      work,
      port,
      run,
      stats,
      faults,
      resumables,
      completions,
      requests,
      admin,
      io,
      fetch,
    });
    this.#cc = new CcStateMachine({
      regs,
      run,
      faults,
      namespaces,
      queues,
      doorbells,
      arbitration: this.#arbitration,
      aer,
      features,
      temperature,
      interrupts,
      data,
      smart,
      stats,
      trace,
    });
  }

  get state(): ControllerState {
    return this.#run.state;
  }

  /** One step of the function; returns the work done (0 = idle). */
  poll(): number {
    if (this.#closed) return 0;
    this.#work.startPoll();
    const regs = this.#regs;
    let work = 0;
    const unmasked = regs.refresh();
    if (unmasked !== 0) this.#interrupts.onUnmasked(unmasked, regs.intMask);
    work += this.#cc.service();
    if (this.#run.ready) {
      const queues = this.#queues;
      work += this.#doorbells.serviceCqHeads(queues.cqs, this.#onCqHead, this.#isReady);
      work += this.#doorbells.serviceStray(queues.sqs, queues.cqs);
      work += this.#arbitration.serviceSqs();
      work += this.#interrupts.tick(regs.intMask);
    }
    this.#interrupts.deliverPending();
    this.#interrupts.updateIntx(this.#queues.cqs, regs.intMask);
    return work;
  }

  /**
   * Commands fetched that have no completion yet: AERs waiting for an event and completions
   * waiting for room in a full CQ. fetched = completed + dropped + pending at every step.
   */
  get pendingCompletions(): number {
    let n = this.#aer.outstanding;
    for (const cq of this.#queues.cqs) n += cq?.deferred.length ?? 0;
    for (const sq of this.#queues.sqs) if (sq?.inProgress) n++;
    return n;
  }

  /** CQ maps held on purpose while their queue lives (a leak check allows them). */
  persistentMaps(): ReadonlySet<EpcMap> {
    const maps = new Set<EpcMap>();
    for (const cq of this.#queues.cqs) if (cq?.map) maps.add(cq.map);
    return maps;
  }

  /** Releases every mapping and closes the backends; the function does nothing afterwards. */
  close(): void {
    if (this.#closed) return;
    if (this.#run.ready) this.#smart.unsafeShutdowns++;
    this.#cc.teardown();
    for (const ns of this.#namespaces) ns.backend.close();
    this.#closed = true;
  }
}
