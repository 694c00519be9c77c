/**
 * Figure 8: peak memory of a long run whose buffers are spread over the whole 64-bit space (the
 * adversarial placement draws addresses from 1 MiB up to 2^64). Sparse host memory must grow with
 * the bytes in use, never with the address range. The run happens in a child process, so that the
 * peak resident set is this run's alone.
 */
import { readFileSync } from 'node:fs';
import { isSuccess, NvmOpcode } from '@epfsim/nvme-spec-types';
import { NvmeDriver } from '../../host/driver/nvme-driver.js';
import type { PendingCommand } from '../../host/driver/pending-command.js';
import { createPlacement } from '../../host/placement/placement-factory.js';
import { createTestbed } from '../../host/target/epfsim-target.js';
import { CommandRing } from './command-ring.js';
import { runJsonChild } from './json-child.js';

const BLOCK = 512;
const NSID = 1;
/** A 16 MiB namespace: what it holds is bounded, so the figure measures host memory, not the media. */
const NAMESPACE_BLOCKS = 32 * 1024;
/** 4 KiB commands, half writes and half reads, 32 in flight. */
const IO_BLOCKS = 8;
const DEPTH = 32;

export interface MemoryRunResult {
  readonly commands: number;
  /**
   * Peak resident set of this process, KiB: VmHWM of /proc/self/status where there is one (Linux),
   * else process.resourceUsage().maxRSS. On Linux maxRSS also counts the parent's resident set at
   * fork time, which a child exec'd from a large parent would report as its own.
   */
  readonly peakRssKiB: number;
  /** process.resourceUsage().maxRSS, KiB. */
  readonly maxRssKiB: number;
  /** Host page storage at the end (should be a few pages: buffers are freed as commands complete). */
  readonly residentBytes: number;
  readonly seconds: number;
}

/** Runs `commands` commands in this process and reports its peak RSS. */
export function memoryRun(commands: number): MemoryRunResult {
  const start = performance.now();
  const tb = createTestbed({
    profile: 'generic',
    strict: false,
    function: {
      strategy: 'mem-map',
      namespaces: [{ blockSize: BLOCK, blocks: NAMESPACE_BLOCKS, backend: { kind: 'ram' } }],
    },
  });
  const placement = createPlacement('adversarial', tb.memory, { seed: 8, profile: tb.profile });
  const driver = new NvmeDriver(tb.target, { placement, ioQueues: 1, ioQueueDepth: DEPTH * 2 });
  driver.init();
  const payload = new Uint8Array(IO_BLOCKS * BLOCK).fill(0xa5);
  let rng = 0x1234567;
  const slots = NAMESPACE_BLOCKS / IO_BLOCKS;
  const inflight = new CommandRing(DEPTH);
  const finish = (cmd: PendingCommand | undefined): void => {
    const status = driver.finish(cmd as PendingCommand).completion.status;
    if (!isSuccess(status)) throw new Error(`memory run: command failed with status 0x${status.toString(16)}`);
  };
  for (let i = 0; i < commands; i++) {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    const lba = BigInt(((rng >>> 0) % slots) * IO_BLOCKS);
    const write = (i & 1) === 0;
    if (inflight.full) finish(inflight.shift());
    inflight.push(
      write
        ? driver.startIo(NvmOpcode.WRITE, NSID, lba, IO_BLOCKS, payload)
        : driver.startIo(NvmOpcode.READ, NSID, lba, IO_BLOCKS),
    );
  }
  while (inflight.size > 0) finish(inflight.shift());
  const residentBytes = tb.memory.residentBytes;
  tb.close();
  const maxRssKiB = process.resourceUsage().maxRSS;
  return {
    commands,
    peakRssKiB: highWaterMarkKiB() ?? maxRssKiB,
    maxRssKiB,
    residentBytes,
    seconds: (performance.now() - start) / 1000,
  };
}

/** VmHWM (peak resident set of this process's own address space) in KiB, or undefined off Linux. */
function highWaterMarkKiB(): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** What figure 8's child process runs. */
export interface MemoryRunRequest {
  readonly commands: number;
}

/** Runs {@link memoryRun} in a child Node process (memory-child.js), whose peak RSS is its own. */
export function measureMemoryInChild(commands: number): MemoryRunResult {
  const request: MemoryRunRequest = { commands };
  return runJsonChild<MemoryRunResult>('memory run', new URL('./memory-child.js', import.meta.url), request);
}
