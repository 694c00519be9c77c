import {
  Cns,
  CQE_SIZE,
  CSTS,
  CSTS_SHST,
  cqHeadDoorbell,
  decodeIdentifyController,
  decodeSmartLog,
  encodeSqe,
  FEATURE_DW11,
  FeatureId,
  getBits,
  Lid,
  NVME_NSID_ALL,
  NVME_REG_CSTS,
  NvmOpcode,
  SMART_LOG_SIZE,
  Status,
  sqe,
  sqTailDoorbell,
  statusSc,
  statusSct,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { STATUS_HOST_ABORTED } from '../../../src/host/driver/completion.js';
import { NvmeDriver } from '../../../src/host/driver/nvme-driver.js';
import { NvmeDriverError } from '../../../src/host/errors.js';
import { driverOn, NS4K, NS512, pattern, testbed } from '../../support/testbed.js';
import { WrappedTarget } from '../../support/wrapped-target.js';

const sameStatus = (actual: number, expected: number) =>
  statusSct(actual) === statusSct(expected) && statusSc(actual) === statusSc(expected);

describe('driver bring-up', () => {
  it('probes, enables, identifies every active namespace and creates I/O queue pairs with MSI-X vectors', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    expect(driver.state).toBe('live');
    expect(driver.cap?.MQES).toBeGreaterThan(0);
    expect(driver.interruptMode).toBe('msix');
    expect(driver.vectors).toBe(5);
    expect(driver.controller?.mdtsBytes).toBe(512 * 1024);
    expect(driver.controller?.sgl.support).toBe('byte');
    expect([...driver.namespaces.values()].map((n) => [n.nsid, n.blockSize, n.nsze])).toEqual([
      [1, NS512.blockSize, BigInt(NS512.blocks)],
      [2, NS4K.blockSize, BigInt(NS4K.blocks)],
    ]);
    expect(driver.ioQueueIds).toEqual([1, 2, 3, 4]);
    for (const qid of driver.ioQueueIds) {
      const q = driver.queue(qid)!;
      expect(q.vector).toBe(qid);
      expect(q.depth).toBe(64);
      expect(q.sqBase % 4096n).toBe(0n);
    }
    expect(driver.queue(0)!.depth).toBe(32);
    expect(driver.stats.interrupts).toBeGreaterThan(0);
    expect(driver.violations).toEqual([]);
    expect(tb.memory.isolationViolationCount).toBe(0);
    expect(tb.leaks()).toBe(0);
  });

  it('falls back to MSI where the controller has no MSI-X (RK3399), and works with INTx and polling', () => {
    for (const [profile, mode, expected] of [
      ['rk3399', 'msix', 'msi'],
      ['generic', 'intx', 'intx'],
      ['generic', 'poll', 'poll'],
    ] as const) {
      const tb = testbed(profile);
      const driver = driverOn(tb, { interrupts: mode });
      expect(driver.interruptMode).toBe(expected);
      const data = pattern(4096, 1);
      expect(driver.write(1, 0n, data).completion.status).toBe(0);
      expect(driver.read(1, 0n, 8).data).toEqual(data);
      if (expected !== 'poll') expect(driver.stats.interrupts).toBeGreaterThan(0);
      expect(driver.violations).toEqual([]);
    }
  });

  it('throws a typed error when the controller cannot become ready', () => {
    const tb = testbed();
    const wrapped = new WrappedTarget(tb.target);
    // Swallow every CC write: EN never reaches the controller.
    wrapped.onWrite32 = (offset) => offset !== 0x14;
    const driver = new NvmeDriver(wrapped, { seed: 1 });
    expect(() => driver.init()).toThrow(NvmeDriverError);
    expect(driver.state).toBe('dead');
  });
});

describe('driver commands', () => {
  it('reads back what it wrote, on 512 B and 4 KiB namespaces, on every queue', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    for (const qid of driver.ioQueueIds) {
      const small = pattern(512 * 17, qid);
      expect(driver.write(1, BigInt(qid * 100), small, { qid }).completion.status).toBe(0);
      expect(driver.read(1, BigInt(qid * 100), 17, { qid }).data).toEqual(small);
      const big = pattern(4096 * 9, qid);
      expect(driver.write(2, BigInt(qid * 10), big, { qid }).completion.status).toBe(0);
      expect(driver.read(2, BigInt(qid * 10), 9, { qid }).data).toEqual(big);
    }
    expect(tb.memory.isolationViolationCount).toBe(0);
  });

  it('a read with discardData completes and moves the bytes to host memory, but copies nothing out', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    const data = pattern(512 * 8, 3);
    driver.write(1, 40n, data);
    const toHostBefore = tb.epc.counters.bytesToHost;
    const discarded = driver.read(1, 40n, 8, { discardData: true });
    expect(discarded.completion.status).toBe(0);
    expect(discarded.data).toBeUndefined();
    // The data and the one CQE reached host memory all the same.
    expect(tb.epc.counters.bytesToHost - toHostBefore).toBe(data.length + CQE_SIZE);
    expect(driver.read(1, 40n, 8).data).toEqual(data);
  });

  it('Compare, Write Zeroes, Flush and Dataset Management', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    const data = pattern(4096, 7);
    driver.write(1, 40n, data);
    expect(driver.compare(1, 40n, data).completion.status).toBe(0);
    const other = data.slice();
    other[100] = (other[100] ?? 0) ^ 1;
    expect(sameStatus(driver.compare(1, 40n, other).completion.status, Status.COMPARE_FAILED)).toBe(true);
    expect(driver.writeZeroes(1, 40n, 8).status).toBe(0);
    expect(driver.read(1, 40n, 8).data).toEqual(new Uint8Array(4096));
    expect(driver.flush(1).status).toBe(0);
    const dsm = driver.dsm(1, [{ cattr: 0, nlb: 8, slba: 40n }]);
    expect(dsm.completion.status).toBe(0);
    expect(dsm.layout?.length).toBe(16);
  });

  it('Identify, Get Log Page and Get/Set Features through the admin queue', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    const id = driver.identify(Cns.CONTROLLER);
    expect(decodeIdentifyController(id.data!).nn).toBe(2);
    const smart = driver.getLogPage({ lid: Lid.SMART_HEALTH, length: SMART_LOG_SIZE }, NVME_NSID_ALL);
    expect(smart.completion.status).toBe(0);
    expect(decodeSmartLog(smart.data!).hostWriteCommands).toBeGreaterThanOrEqual(0n);
    const nq = driver.getFeatures(FeatureId.NUMBER_OF_QUEUES);
    expect(nq.status).toBe(0);
    expect(getBits(nq.dw0, FEATURE_DW11.NUMBER_OF_QUEUES.NSQR)).toBeGreaterThanOrEqual(3);
    // Number of Queues after I/O queues exist is a Command Sequence Error (C-A3).
    expect(sameStatus(driver.setFeatures(FeatureId.NUMBER_OF_QUEUES, 0).status, Status.CMD_SEQ_ERROR)).toBe(true);
  });

  it('keeps many commands in flight on several queues (queue depth > 1)', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    const pending = Array.from({ length: 120 }, (_, i) =>
      driver.startIo(NvmOpcode.WRITE, 1, BigInt(i * 8), 8, pattern(4096, i)),
    );
    expect(driver.outstanding).toBe(120);
    for (const p of pending) expect(driver.finish(p).completion.status).toBe(0);
    const reads = Array.from({ length: 120 }, (_, i) => driver.startIo(NvmOpcode.READ, 1, BigInt(i * 8), 8));
    reads.forEach((p, i) => {
      expect(driver.finish(p).data).toEqual(pattern(4096, i));
    });
    expect(driver.outstanding).toBe(0);
    expect(driver.violations).toEqual([]);
    expect(tb.memory.grants.size).toBe(2 * (driver.ioQueueIds.length + 1));
  });

  it('raw submissions are granted exactly what the caller says: an ungranted buffer is an isolation violation', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    const buffer = tb.memory.place(0x9_0000_0000n, 4096);
    const read = (prp1: bigint) => {
      const bytes = encodeSqe(sqe({ opcode: NvmOpcode.READ, nsid: 1, prp1, cdw12: 7 }));
      return bytes;
    };
    const granted = driver.finish(driver.submitRaw(1, read(buffer.addr), [{ ...buffer, direction: 'write' }]));
    expect(granted.completion.status).toBe(0);
    expect(tb.memory.isolationViolationCount).toBe(0);
    const refused = driver.finish(driver.submitRaw(1, read(buffer.addr), []));
    expect(sameStatus(refused.completion.status, Status.DATA_XFER_ERROR)).toBe(true);
    expect(tb.memory.isolationViolationCount).toBeGreaterThan(0);
    expect(tb.memory.isolationViolations[0]).toMatchObject({ direction: 'write' });
  });
});

describe('driver robustness', () => {
  it('records a CQE with an unknown CID, then times the real command out: Abort, second timeout, reset', () => {
    const tb = testbed();
    const wrapped = new WrappedTarget(tb.target);
    const driver = driverOn(tb, { ioTimeoutMs: 5, adminTimeoutMs: 5 }, wrapped);
    const q = driver.queue(1)!;
    let corrupt = true;
    wrapped.afterStep = () => {
      if (!corrupt) return;
      // A buggy controller: the CQE at the host's head carries the wrong CID.
      const snap = driver.queue(1)!;
      const at = snap.cqBase + BigInt(snap.cqHead * CQE_SIZE);
      const cqe = new Uint8Array(CQE_SIZE);
      tb.memory.read(at, cqe);
      const view = new DataView(cqe.buffer);
      if ((view.getUint16(14, true) & 1) !== snap.cqPhase) return;
      view.setUint16(12, view.getUint16(12, true) ^ 0x0800, true);
      tb.memory.write(at, cqe);
      corrupt = false;
    };
    const cmd = driver.startIo(NvmOpcode.READ, 1, 0n, 8, undefined, { qid: q.qid });
    const result = driver.finish(cmd);
    expect(driver.violations.map((v) => v.kind)).toEqual(['cqe-unknown-cid']);
    expect(result.completion.source).toBe('host-reset');
    expect(result.completion.status).toBe(STATUS_HOST_ABORTED);
    expect(result.completion.timedOut).toBe(true);
    expect(driver.stats.timeouts).toBe(2);
    expect(driver.stats.aborts).toBe(1);
    expect(driver.stats.resets).toBe(1);
    // Re-initialised: I/O works again and the grants of the failed command are gone.
    expect(driver.state).toBe('live');
    const data = pattern(4096, 3);
    expect(driver.write(1, 8n, data).completion.status).toBe(0);
    expect(driver.read(1, 8n, 8).data).toEqual(data);
    expect(tb.leaks()).toBe(0);
  });

  it('a command whose doorbell was lost is aborted ("not aborted"), then reset', () => {
    const tb = testbed();
    const wrapped = new WrappedTarget(tb.target);
    const driver = driverOn(tb, { ioTimeoutMs: 5, adminTimeoutMs: 50 }, wrapped);
    let swallow = true;
    wrapped.onWrite32 = (offset) => {
      if (swallow && offset === sqTailDoorbell(2, 0)) {
        swallow = false;
        return false;
      }
      return true;
    };
    const result = driver.finish(driver.startIo(NvmOpcode.READ, 1, 0n, 1, undefined, { qid: 2 }));
    expect(result.completion.source).toBe('host-reset');
    expect(driver.stats.aborts).toBe(1);
    expect(driver.stats.resets).toBe(1);
    expect(driver.violations).toEqual([]);
    expect(driver.read(1, 0n, 1, { qid: 2 }).completion.status).toBe(0);
  });

  it('records CQEs naming an unknown SQ and an implausible SQHD', () => {
    const tb = testbed();
    const wrapped = new WrappedTarget(tb.target);
    const driver = driverOn(tb, { ioTimeoutMs: 5 }, wrapped);
    let mode: 'sqid' | 'sqhd' | undefined;
    wrapped.afterStep = () => {
      if (mode === undefined) return;
      const snap = driver.queue(3)!;
      const at = snap.cqBase + BigInt(snap.cqHead * CQE_SIZE);
      const cqe = new Uint8Array(CQE_SIZE);
      tb.memory.read(at, cqe);
      const view = new DataView(cqe.buffer);
      if ((view.getUint16(14, true) & 1) !== snap.cqPhase) return;
      if (mode === 'sqid') view.setUint16(10, 9, true);
      else view.setUint16(8, 63, true);
      tb.memory.write(at, cqe);
      mode = undefined;
    };
    mode = 'sqhd';
    const ok = driver.read(1, 0n, 1, { qid: 3 });
    expect(ok.completion.status).toBe(0);
    mode = 'sqid';
    driver.read(1, 0n, 1, { qid: 3 });
    expect(driver.violations.map((v) => v.kind)).toEqual(['cqe-sqhd', 'cqe-unknown-sqid']);
    expect(driver.violations[1]).toMatchObject({ qid: 3 });
  });

  it('takes completions by polling when an MSI-X vector is masked, and gets the pending message on unmask', () => {
    const tb = testbed();
    const driver = driverOn(tb, { pollEvery: 4 });
    tb.target.maskMsixVector(1, true);
    const before = tb.doorbell.count(1);
    expect(driver.read(1, 0n, 1, { qid: 1 }).completion.status).toBe(0);
    expect(driver.stats.reapedWithoutInterrupt).toBeGreaterThan(0);
    expect(tb.doorbell.count(1)).toBe(before);
    tb.target.maskMsixVector(1, false);
    expect(tb.doorbell.count(1)).toBe(before + 1);
  });

  it('reset on demand fails outstanding commands and re-initialises; shutdown reaches SHST complete', () => {
    const tb = testbed();
    const driver = driverOn(tb);
    const data = pattern(8192, 5);
    driver.write(1, 100n, data);
    const pending = driver.startIo(NvmOpcode.READ, 1, 100n, 16);
    const oldSq = driver.queue(1)!.sqBase;
    driver.reset();
    expect(pending.completion?.source).toBe('host-reset');
    expect(driver.stats.resets).toBe(1);
    expect(driver.queue(1)!.sqBase).not.toBe(oldSq);
    expect(driver.read(1, 100n, 16).data).toEqual(data);
    driver.shutdown();
    expect(driver.state).toBe('shutdown');
    expect(getBits(tb.target.mmioRead32(NVME_REG_CSTS), CSTS.SHST)).toBe(CSTS_SHST.COMPLETE);
    expect(tb.memory.grants.size).toBe(0);
    expect(tb.leaks()).toBe(0);
    expect(tb.epc.liveMaps).toHaveLength(0);
    expect(cqHeadDoorbell(1, 0)).toBe(0x100c);
  });
});
