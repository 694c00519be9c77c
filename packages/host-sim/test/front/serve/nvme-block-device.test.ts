/**
 * The NBD -> NVMe block device adapter against an in-process testbed: requests split at MDTS,
 * FUA as the FUA bit, trim as Dataset Management, write zeroes, ranges the namespace lacks as NBD
 * errors before any command, NVMe error statuses and a dead controller as EIO.
 */
import { DATASET_MANAGEMENT, getBits, NvmOpcode, READ_WRITE, WRITE_ZEROES } from '@epfsim/nvme-spec-types';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isBlockDeviceError } from '../../../src/front/nbd/block-device.js';
import { CommandPump } from '../../../src/front/serve/command-pump.js';
import { NvmeBlockDevice, type NvmeBlockDeviceOptions } from '../../../src/front/serve/nvme-block-device.js';
import type { CommandSpec } from '../../../src/host/driver/driver-types.js';
import type { NvmeDriver } from '../../../src/host/driver/nvme-driver.js';
import { NvmeDriverError } from '../../../src/host/errors.js';
import { createPlacement } from '../../../src/host/placement/placement-factory.js';
import type { Testbed } from '../../../src/host/target/epfsim-target.js';
import { driverOn, pattern, testbed } from '../../support/testbed.js';

const BLOCK = 512;
/** A small MDTS, so that splitting shows with small requests: 16 blocks per Read or Write. */
const MDTS_BYTES = 8 * 1024;
const KiB = 1024;

interface Bench {
  readonly tb: Testbed;
  readonly driver: NvmeDriver;
  readonly pump: CommandPump;
  /** Every command the adapter handed to the driver, with its queue. */
  readonly submitted: { qid: number; spec: CommandSpec }[];
  /** Most commands outstanding on one queue right after a submission. */
  readonly most: { outstanding: number };
  /** Changes the next command before the driver sees it (to provoke an error status). */
  rewriteNext(change: (spec: CommandSpec) => CommandSpec): void;
  device(options?: Partial<NvmeBlockDeviceOptions>): NvmeBlockDevice;
}

let open: Testbed[] = [];

afterEach(() => {
  for (const tb of open) tb.close();
  open = [];
  vi.restoreAllMocks();
});

function bench(
  options: { mdtsBytes?: number; blocks?: number; ioQueueDepth?: number; placement?: string } = {},
): Bench {
  const tb = testbed('rk3399', {
    function: {
      mdtsBytes: options.mdtsBytes ?? MDTS_BYTES,
      namespaces: [{ blockSize: BLOCK, blocks: options.blocks ?? 4096, backend: { kind: 'ram' } }],
    },
  });
  open.push(tb);
  const placement = createPlacement(options.placement ?? 'adversarial', tb.memory, { seed: 3, profile: tb.profile });
  const driver = driverOn(tb, { placement, ioQueues: 2, ioQueueDepth: options.ioQueueDepth ?? 64 });
  const pump = new CommandPump(driver);
  const submitted: { qid: number; spec: CommandSpec }[] = [];
  const most = { outstanding: 0 };
  let rewrite: ((spec: CommandSpec) => CommandSpec) | undefined;
  const submit = driver.submit.bind(driver);
  vi.spyOn(driver, 'submit').mockImplementation((qid, spec) => {
    submitted.push({ qid, spec });
    const change = rewrite;
    rewrite = undefined;
    const cmd = submit(qid, change === undefined ? spec : change(spec));
    most.outstanding = Math.max(most.outstanding, driver.queue(qid)?.outstanding ?? 0);
    return cmd;
  });
  return {
    tb,
    driver,
    pump,
    submitted,
    most,
    rewriteNext: (change) => {
      rewrite = change;
    },
    device: (o = {}) => new NvmeBlockDevice(pump, driver, { nsid: 1, qid: 1, ...o }),
  };
}

const nlbOf = (spec: CommandSpec): number => getBits(spec.cdw12 ?? 0, READ_WRITE.CDW12.NLB) + 1;
const fuaOf = (spec: CommandSpec): number => getBits(spec.cdw12 ?? 0, READ_WRITE.CDW12.FUA);

async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (e) {
    if (isBlockDeviceError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a BlockDeviceError');
}

describe('NvmeBlockDevice geometry', () => {
  it('exports the namespace: size, block size, 32 MiB requests', () => {
    const b = bench({ blocks: 2048 });
    const d = b.device();
    expect(d).toMatchObject({ size: 2048 * BLOCK, blockSize: BLOCK, maxRequest: 32 * 1024 * KiB });
  });

  it('refuses a namespace the controller does not have', () => {
    const b = bench();
    expect(() => b.device({ nsid: 7 })).toThrow(/namespace 7 is not active/);
  });
});

describe('NvmeBlockDevice reads and writes', () => {
  it('splits a request larger than MDTS into commands of at most MDTS, in order, and round-trips the bytes', async () => {
    const b = bench();
    const d = b.device();
    const data = pattern(40 * KiB, 1);
    await d.write(4 * KiB, data, false);
    const writes = b.submitted.filter((s) => s.spec.opcode === NvmOpcode.WRITE);
    expect(writes.map((s) => nlbOf(s.spec))).toEqual([16, 16, 16, 16, 16]);
    expect(writes.map((s) => Number(s.spec.cdw10))).toEqual([8, 24, 40, 56, 72]);
    const back = await d.read(4 * KiB, 40 * KiB);
    expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    const reads = b.submitted.filter((s) => s.spec.opcode === NvmOpcode.READ);
    expect(reads.map((s) => nlbOf(s.spec))).toEqual([16, 16, 16, 16, 16]);
    expect(d.counters).toMatchObject({
      splitRequests: 2,
      failed: 0,
      commands: { read: 5, write: 5 },
      bytes: { read: 40 * KiB, write: 40 * KiB },
    });
  });

  it('keeps an uneven tail: 9 KiB is 16 + 2 blocks', async () => {
    const b = bench();
    await b.device().write(0, pattern(9 * KiB, 2), false);
    expect(b.submitted.map((s) => nlbOf(s.spec))).toEqual([16, 2]);
  });

  it('sends every command on its own I/O queue', async () => {
    const b = bench();
    await b.device({ qid: 2 }).write(0, pattern(20 * KiB, 3), false);
    await b.device({ qid: 2 }).read(0, 4 * KiB);
    expect(new Set(b.submitted.map((s) => s.qid))).toEqual(new Set([2]));
  });

  it('returns bytes of its own: small driver results (views into a shared slab) are copied', async () => {
    const b = bench();
    const d = b.device();
    await d.write(0, pattern(8 * KiB, 4), false);
    const results = await Promise.all([d.read(0, 4 * KiB), d.read(4 * KiB, 4 * KiB), d.read(0, 512)]);
    for (const r of results) {
      expect(r.byteOffset).toBe(0);
      expect(r.buffer.byteLength).toBe(r.length);
    }
    expect(Buffer.from(results[1]!).equals(Buffer.from(pattern(8 * KiB, 4).subarray(4 * KiB)))).toBe(true);
  });

  it('never places Bit Buckets in a read, so every byte comes back (adversarial placement, SGLs)', async () => {
    const b = bench({ mdtsBytes: 0 });
    const d = b.device();
    const data = pattern(64 * KiB, 5);
    await d.write(0, data, false);
    for (let i = 0; i < 40; i++) {
      const back = await d.read(0, 64 * KiB);
      expect(Buffer.from(back).equals(Buffer.from(data))).toBe(true);
    }
  });

  it('FUA sets the FUA bit of every Write (and only with FUA)', async () => {
    const b = bench();
    const d = b.device();
    await d.write(0, pattern(12 * KiB, 6), true);
    await d.write(0, pattern(12 * KiB, 7), false);
    expect(b.submitted.map((s) => fuaOf(s.spec))).toEqual([1, 1, 0, 0]);
  });

  it('keeps many requests in flight, never more than the queue holds, and completes them all', async () => {
    const b = bench({ ioQueueDepth: 5 });
    const d = b.device();
    await d.write(0, pattern(64 * KiB, 8), false);
    b.most.outstanding = 0;
    const reads = await Promise.all(Array.from({ length: 32 }, (_, i) => d.read((i % 16) * 4 * KiB, 4 * KiB)));
    // A queue of 5 entries holds 4 commands: the other 28 requests waited for room.
    expect(b.most.outstanding).toBe(4);
    reads.forEach((r, i) => {
      const at = (i % 16) * 4 * KiB;
      expect(Buffer.from(r).equals(Buffer.from(pattern(64 * KiB, 8).subarray(at, at + 4 * KiB)))).toBe(true);
    });
  });
});

describe('NvmeBlockDevice flush, trim, write zeroes', () => {
  it('flush is one NVMe Flush', async () => {
    const b = bench();
    await b.device().flush();
    expect(b.submitted.map((s) => s.spec.opcode)).toEqual([NvmOpcode.FLUSH]);
  });

  it('trim is Dataset Management with Deallocate over the range; the blocks then read as zeroes', async () => {
    const b = bench();
    const d = b.device();
    const data = pattern(32 * KiB, 9);
    await d.write(0, data, false);
    b.submitted.length = 0;
    await d.trim(8 * KiB, 16 * KiB);
    expect(b.submitted).toHaveLength(1);
    const dsm = b.submitted[0]!.spec;
    expect(dsm.opcode).toBe(NvmOpcode.DATASET_MANAGEMENT);
    expect(getBits(dsm.cdw11 ?? 0, DATASET_MANAGEMENT.CDW11.AD)).toBe(1);
    expect(getBits(dsm.cdw10 ?? 0, DATASET_MANAGEMENT.CDW10.NR)).toBe(0);
    const back = Buffer.from(await d.read(0, 32 * KiB));
    expect(back.subarray(0, 8 * KiB).equals(Buffer.from(data.subarray(0, 8 * KiB)))).toBe(true);
    expect(back.subarray(8 * KiB, 24 * KiB).every((x) => x === 0)).toBe(true);
    expect(back.subarray(24 * KiB).equals(Buffer.from(data.subarray(24 * KiB)))).toBe(true);
    expect(d.counters.bytes.trim).toBe(16 * KiB);
  });

  it('write zeroes is Write Zeroes (not bound by MDTS), with FUA when asked; neighbours are untouched', async () => {
    const b = bench();
    const d = b.device();
    const data = pattern(64 * KiB, 10);
    await d.write(0, data, false);
    b.submitted.length = 0;
    await d.writeZeroes(4 * KiB, 48 * KiB, true);
    expect(b.submitted).toHaveLength(1);
    const wz = b.submitted[0]!.spec;
    expect(wz.opcode).toBe(NvmOpcode.WRITE_ZEROES);
    expect(getBits(wz.cdw12 ?? 0, WRITE_ZEROES.CDW12.NLB) + 1).toBe(96);
    expect(getBits(wz.cdw12 ?? 0, WRITE_ZEROES.CDW12.FUA)).toBe(1);
    const back = Buffer.from(await d.read(0, 64 * KiB));
    expect(back.subarray(0, 4 * KiB).equals(Buffer.from(data.subarray(0, 4 * KiB)))).toBe(true);
    expect(back.subarray(4 * KiB, 52 * KiB).every((x) => x === 0)).toBe(true);
    expect(back.subarray(52 * KiB).equals(Buffer.from(data.subarray(52 * KiB)))).toBe(true);
  });

  it('write zeroes over more than 65536 blocks is split at the 16-bit NLB', async () => {
    const b = bench({ blocks: 65536 + 64 });
    const d = b.device();
    await d.writeZeroes(0, (65536 + 64) * BLOCK, false);
    expect(b.submitted.map((s) => getBits(s.spec.cdw12 ?? 0, WRITE_ZEROES.CDW12.NLB) + 1)).toEqual([65536, 64]);
    expect(b.submitted.map((s) => getBits(s.spec.cdw12 ?? 0, WRITE_ZEROES.CDW12.FUA))).toEqual([0, 0]);
  });
});

describe('NvmeBlockDevice errors', () => {
  it.each([
    ['read past the end', (d: NvmeBlockDevice) => d.read(d.size - 512, 1024), 'EINVAL'],
    ['read at the end', (d: NvmeBlockDevice) => d.read(d.size, 512), 'EINVAL'],
    ['write past the end', (d: NvmeBlockDevice) => d.write(d.size - 512, new Uint8Array(1024), false), 'ENOSPC'],
    ['write zeroes past the end', (d: NvmeBlockDevice) => d.writeZeroes(d.size, 512, false), 'ENOSPC'],
    ['trim past the end', (d: NvmeBlockDevice) => d.trim(d.size - 512, 4096), 'EINVAL'],
    ['a misaligned offset', (d: NvmeBlockDevice) => d.read(100, 512), 'EINVAL'],
    ['a partial block', (d: NvmeBlockDevice) => d.write(0, new Uint8Array(700), false), 'EINVAL'],
    ['a zero length', (d: NvmeBlockDevice) => d.read(0, 0), 'EINVAL'],
  ] as const)('%s is refused with %s before any command', async (_name, request, code) => {
    const b = bench();
    const d = b.device();
    expect((await errorOf(request(d))).code).toBe(code);
    expect(b.submitted).toEqual([]);
  });

  it('an NVMe error status is EIO, counted with its status; the device keeps working', async () => {
    const b = bench();
    const d = b.device();
    // The controller sees a namespace it does not have: 0/0Bh Invalid Namespace or Format.
    b.rewriteNext((spec) => ({ ...spec, nsid: 9 }));
    const e = await errorOf(d.write(0, pattern(4 * KiB, 11), false));
    expect(e.code).toBe('EIO');
    expect(e.message).toMatch(/Write of LBA 0\+8 failed: 0\/0Bh Invalid Namespace or Format/);
    expect(d.counters.failed).toBe(1);
    expect(Object.keys(d.counters.errorStatuses)).toEqual([expect.stringMatching(/^0\/0Bh/)]);
    await d.write(0, pattern(4 * KiB, 12), false);
    expect(Buffer.from(await d.read(0, 4 * KiB)).equals(Buffer.from(pattern(4 * KiB, 12)))).toBe(true);
  });

  it('a controller that cannot be driven fails requests in flight and later with EIO, without throwing elsewhere', async () => {
    const b = bench();
    const d = b.device();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      vi.spyOn(b.driver, 'pump').mockImplementation(() => {
        throw new NvmeDriverError('FATAL_STATUS', 'CSTS.CFS set');
      });
      const inFlight = await Promise.all([errorOf(d.read(0, 4 * KiB)), errorOf(d.read(0, 64 * KiB))]);
      expect(inFlight.map((e) => e.code)).toEqual(['EIO', 'EIO']);
      expect(inFlight[0]!.message).toMatch(/CSTS\.CFS set/);
      expect((await errorOf(d.flush())).code).toBe('EIO');
      expect(b.pump.failure?.message).toBe('CSTS.CFS set');
      await b.pump.idle();
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
