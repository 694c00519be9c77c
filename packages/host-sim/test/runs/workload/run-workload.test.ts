import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NvmOpcode } from '@epfsim/nvme-spec-types';
import { afterAll, describe, expect, it } from 'vitest';
import type { IoOptions } from '../../../src/host/driver/driver-types.js';
import { NvmeDriver } from '../../../src/host/driver/nvme-driver.js';
import type { PendingCommand } from '../../../src/host/driver/pending-command.js';
import { HostSimConfigError } from '../../../src/host/errors.js';
import { createPlacement } from '../../../src/host/placement/placement-factory.js';
import { createTestbed } from '../../../src/host/target/epfsim-target.js';
import { formatRunReport } from '../../../src/runs/workload/format-report.js';
import { LATENCY_PERCENTILES } from '../../../src/runs/workload/latency-recorder.js';
import { CHECK_NAMES } from '../../../src/runs/workload/run-checks.js';
import { runOnTestbed } from '../../../src/runs/workload/run-report.js';
import { runWorkload } from '../../../src/runs/workload/workload-engine.js';
import { WrappedTarget } from '../../support/wrapped-target.js';
import { bed, countsOnly, failedChecks, generated, KIB, MIB, replay } from './support.js';

describe('workload run', () => {
  it('a clean verified run passes every check and reports what fio users look for', async () => {
    const report = await runOnTestbed(bed(), generated());
    expect(failedChecks(report)).toEqual([]);
    expect(report.checks.list.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    const r = report.results;
    expect(r.ios).toBe(500);
    expect(r.byOp.read.ios + r.byOp.write.ios).toBe(500);
    expect(r.bytes).toBe(500 * 4 * KIB);
    expect(r.statuses).toEqual({ '0/00h Successful Completion': 500 });
    expect(r.end).toBe('number-ios');
    expect(r.verify).toMatchObject({ enabled: true, readsChecked: r.byOp.read.ios, mismatchedBlocks: 0 });
    expect(r.verify.blocksWithData).toBeGreaterThan(0);
    expect(r.wallClock.iops).toBeGreaterThan(0);
    expect(r.wallClock.bytesPerSecond).toBeGreaterThan(0);
    expect(r.wallClock.latency.count).toBe(500);
    expect(Object.keys(r.wallClock.latency.percentilesNs)).toEqual(LATENCY_PERCENTILES.map(String));
    expect(r.wallClock.byOp.read?.latency.count).toBe(r.byOp.read.ios);
    expect(report.counters.epc.memMapCalls).toBeGreaterThan(0);
    expect(report.counters.epc.atuPrograms).toBeGreaterThan(0);
    expect(report.counters.epc).toHaveProperty('partialMaps');
    expect(report.counters.epc).toHaveProperty('slotsHighWater');
    expect(report.counters.driver.submitted).toBeGreaterThanOrEqual(500);
    expect(report.config).toMatchObject({
      profile: 'rk3588',
      placement: 'adversarial',
      namespace: { nsid: 1, blockSize: 512, bytes: 64 * MIB },
      workload: { kind: 'generate', rw: 'randrw', iodepth: 8, verify: true, seed: 7 },
    });
    const text = formatRunReport(report).join('\n');
    expect(text).toMatch(/IOPS/);
    expect(text).toMatch(/clat \(µs\)/);
    expect(text).toMatch(/map calls/);
    expect(text).toMatch(/PASS: all 10 checks passed/);
  });

  it('latency percentiles are monotonic', async () => {
    const report = await runOnTestbed(bed(), generated({ numberIos: 300 }));
    const p = report.results.wallClock.latency.percentilesNs;
    const values = LATENCY_PERCENTILES.map((k) => p[String(k)] as number);
    expect(values.every((v, i) => i === 0 || v >= (values[i - 1] as number))).toBe(true);
  });

  it.each(['stress', 'rk3399'])('%s with adversarial placement: verified, isolated, no leaks', async (profile) => {
    const report = await runOnTestbed(
      bed({ profile, placement: 'adversarial' }, 2, 8),
      generated({ blockSize: { min: 512, max: 64 * KIB }, queues: 2, numberIos: 300 }),
    );
    expect(failedChecks(report)).toEqual([]);
    expect(report.results.verify.mismatchedBlocks).toBe(0);
    expect(report.results.verify.blocksWithData).toBeGreaterThan(0);
    const checks = Object.fromEntries(report.checks.list.map((c) => [c.name, c.passed]));
    expect(checks).toMatchObject({ isolation: true, leaks: true, 'maps-after-shutdown': true, protocol: true });
    if (profile === 'stress') expect(report.counters.epc.partialMaps).toBeGreaterThan(0);
  });

  it('is deterministic: the same seed gives the same report but for the wall-clock figures', async () => {
    const spec = generated({ blockSize: { min: 512, max: 16 * KIB }, queues: 2, numberIos: 250 });
    const a = await runOnTestbed(bed({ seed: '11' }, 2), spec);
    const b = await runOnTestbed(bed({ seed: '11' }, 2), spec);
    expect(countsOnly(a)).toEqual(countsOnly(b));
    const c = await runOnTestbed(bed({ seed: '12' }, 2), { ...spec, seed: 12 });
    expect(countsOnly(c)).not.toEqual(countsOnly(a));
  });

  it('spreads I/O over the queues and keeps at most iodepth x queues in flight', async () => {
    const { testbed, placement } = bed({}, 3, 4);
    let most = 0;
    class Watching extends NvmeDriver {
      override startIo(...args: Parameters<NvmeDriver['startIo']>): PendingCommand {
        const cmd = super.startIo(...args);
        most = Math.max(most, this.outstanding);
        return cmd;
      }
    }
    const driver = new Watching(testbed.target, { placement, seed: 1, ioQueues: 3, ioQueueDepth: 64 });
    driver.init();
    const report = await runOnTestbed(
      { testbed, driver },
      generated({ rw: 'randread', iodepth: 4, queues: 3, numberIos: 200 }),
    );
    expect(failedChecks(report)).toEqual([]);
    expect(report.results.queueIds).toEqual([1, 2, 3]);
    expect(report.results.ios).toBe(600);
    expect(most).toBe(12);
  });

  it('trims (Dataset Management, deallocate) read back as zeroes', async () => {
    const report = await runOnTestbed(
      bed(),
      replay([
        { op: 'write', offset: 0, length: 16 * KIB },
        { op: 'read', offset: 0, length: 16 * KIB },
        { op: 'trim', offset: 4 * KIB, length: 8 * KIB },
        { op: 'read', offset: 0, length: 16 * KIB },
      ]),
    );
    expect(failedChecks(report)).toEqual([]);
    expect(report.results.byOp.trim.ios).toBe(1);
    // 32 blocks of data, then 16 of data and 16 deallocated (checked as zeroes).
    expect(report.results.verify).toMatchObject({ blocksChecked: 64, blocksWithData: 48, mismatchedBlocks: 0 });
  });

  it('catches a byte of read data flipped on its way to the host', async () => {
    const { testbed, placement } = bed({ placement: 'linux' });
    /** Flips one byte of the data of the 20th read, as a buggy data path would. */
    class Corrupting extends NvmeDriver {
      private readonly reads: PendingCommand[] = [];
      private flipped = false;
      override startIo(
        opcode: number,
        nsid: number,
        slba: bigint,
        nlb: number,
        payload?: Uint8Array,
        io?: IoOptions,
      ): PendingCommand {
        const cmd = super.startIo(opcode, nsid, slba, nlb, payload, io);
        if (opcode === NvmOpcode.READ && !this.flipped) this.reads.push(cmd);
        return cmd;
      }
      override pump(): number {
        const n = super.pump();
        const victim = this.reads[19];
        if (!this.flipped && victim?.data !== undefined) {
          victim.data[1]! ^= 0x01;
          this.flipped = true;
        }
        return n;
      }
    }
    const driver = new Corrupting(testbed.target, { placement, seed: 1, ioQueues: 1, ioQueueDepth: 9 });
    driver.init();
    const report = await runOnTestbed({ testbed, driver }, generated({ rw: 'randread', numberIos: 100 }));
    expect(failedChecks(report)).toEqual(['verify']);
    expect(report.results.verify.mismatchedBlocks).toBe(1);
    expect(report.results.verify.mismatches[0]).toMatchObject({ byte: 1, expected: 'zeroes (never written)' });
    expect(formatRunReport(report).at(-1)).toBe('FAIL: verify');
  });

  describe('with a file namespace changed behind the driver', () => {
    const dir = mkdtempSync(join(tmpdir(), 'epfsim-workload-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('catches the corrupted byte on read back', async () => {
      const path = join(dir, 'ns.img');
      const testbed = createTestbed({
        profile: 'rk3588',
        function: { namespaces: [{ blockSize: 512, blocks: 2048, backend: { kind: 'file', path } }] },
      });
      // Linux placement: no bit bucket can hide the corrupted byte from the check.
      const placement = createPlacement('linux', testbed.memory, { seed: 3 });
      // Once the write has reached the file, flip a byte of block 5 there, before the read.
      const target = new WrappedTarget(testbed.target);
      let corrupted = false;
      target.afterStep = () => {
        if (corrupted || testbed.fn.stats.dataBytesFromHost < 16 * 512) return;
        const fd = openSync(path, 'r+');
        const byte = new Uint8Array(1);
        readSync(fd, byte, 0, 1, 5 * 512 + 100);
        byte[0]! ^= 0x80;
        writeSync(fd, byte, 0, 1, 5 * 512 + 100);
        closeSync(fd);
        corrupted = true;
      };
      const driver = new NvmeDriver(target, { placement, seed: 3, ioQueues: 1, ioQueueDepth: 9 });
      driver.init();
      const report = await runOnTestbed(
        { testbed, driver },
        replay([
          { op: 'write', offset: 0, length: 16 * 512 },
          { op: 'read', offset: 0, length: 16 * 512 },
        ]),
      );
      expect(corrupted).toBe(true);
      expect(failedChecks(report)).toEqual(['verify']);
      expect(report.results.verify.mismatches).toEqual([
        expect.objectContaining({ lba: 5, byte: 100, expected: 'write generation 1 of this LBA' }),
      ]);
    });
  });

  it('refuses a workload that does not fit, before any I/O', async () => {
    const { driver } = bed();
    await expect(runWorkload(driver, generated({ blockSize: { min: 3000, max: 3000 } }))).rejects.toThrow(
      HostSimConfigError,
    );
    await expect(runWorkload(driver, generated({ nsid: 9 }))).rejects.toThrow(/namespace 9 is not active/);
    expect(driver.stats.submitted).toBe(driver.stats.completed);
  });

  it('stops at the runtime (wall clock), whatever the number of I/Os', async () => {
    const { driver } = bed();
    let now = 0;
    const result = await runWorkload(driver, generated({ numberIos: 1_000_000, runtimeMs: 5 }), {
      clockNs: () => (now += 2_000),
    });
    expect(result.end).toBe('runtime');
    expect(result.ios).toBeGreaterThan(0);
    expect(result.ios).toBeLessThan(5_000);
  });
});

describe('replay', () => {
  it('splits requests above MDTS and verifies what the trace wrote', async () => {
    const report = await runOnTestbed(
      bed(),
      replay([
        { op: 'write', offset: 3 * MIB, length: 1200 * KIB },
        { op: 'read', offset: 3 * MIB, length: 1200 * KIB },
        { op: 'flush', offset: 0, length: 0 },
      ]),
    );
    expect(failedChecks(report)).toEqual([]);
    // 1200 KiB = 512 + 512 + 176 KiB at MDTS 512 KiB.
    expect(report.results.byOp).toMatchObject({ write: { ios: 3 }, read: { ios: 3 }, flush: { ios: 1 } });
    expect(report.results.verify.blocksWithData).toBe(2400);
    expect(report.results.end).toBe('trace-end');
  });

  it('honours arrival times: nothing is submitted before its time offset, scaled by the speed', async () => {
    const { driver } = bed();
    let now = 0;
    const sleeps: number[] = [];
    const submittedAt: number[] = [];
    const start = driver.startIo.bind(driver);
    driver.startIo = (...args) => {
      submittedAt.push(now);
      return start(...args);
    };
    const ms = 1_000_000;
    const result = await runWorkload(
      driver,
      replay(
        [
          { op: 'write', offset: 0, length: 4096, timeNs: 1_000 * ms },
          { op: 'read', offset: 0, length: 4096, timeNs: 1_010 * ms },
          { op: 'read', offset: 8192, length: 4096, timeNs: 1_030 * ms },
        ],
        { timing: 'honour', speed: 2 },
      ),
      {
        clockNs: () => now,
        sleep: async (m) => {
          sleeps.push(m);
          now += m * ms;
        },
      },
    );
    expect(result.ios).toBe(3);
    // Times relative to the first request, halved: 0, 5 ms, 15 ms.
    expect(submittedAt).toEqual([0, 5 * ms, 15 * ms]);
    expect(sleeps).toEqual([5, 10]);
    expect(result.verify.mismatchedBlocks).toBe(0);
  });

  it('with number-ios replays a prefix of the trace', async () => {
    const requests = Array.from({ length: 10 }, (_, i) => ({ op: 'write' as const, offset: i * 4096, length: 4096 }));
    const report = await runOnTestbed(bed(), replay(requests, { numberIos: 4 }));
    expect(report.results.ios).toBe(4);
    expect(report.config.workload).toMatchObject({ kind: 'replay', traceRequests: 10, numberIos: 4 });
  });
});

describe('an interrupted run', () => {
  it('stops issuing I/O when its signal aborts, completes what is in flight, and reports the run so far', async () => {
    const interrupt = new AbortController();
    let progressSeen = 0;
    const b = bed();
    const result = await runWorkload(b.driver, generated({ numberIos: 1_000_000, runtimeMs: 60_000 }), {
      signal: interrupt.signal,
      onProgress: () => {
        if (++progressSeen === 2) interrupt.abort();
      },
    });
    b.testbed.close();
    expect(result.end).toBe('interrupted');
    expect(result.ios).toBeGreaterThan(0);
    expect(result.ios).toBeLessThan(1_000_000);
    // Every command issued completed: nothing is left in flight when the run returns.
    expect(b.driver.stats.submitted).toBe(b.driver.stats.completed);
  });
});
