/** Create/Delete I/O queues with every parameter check and its status (Q-2, Q-7, Q-8, Q-9, Q-12, P-14). */
import {
  AdminOpcode,
  CREATE_IO_CQ,
  CREATE_IO_SQ,
  FeatureId,
  NvmOpcode,
  packFields,
  Status,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

function up(config = {}, irq?: 'msix' | 'msi' | 'intx'): ScriptedHost {
  const h = new ScriptedHost({ config, ...(irq ? { irq } : {}) });
  expect(h.enable()).toBe(1);
  return h;
}

function createCqRaw(
  h: ScriptedHost,
  qid: number,
  qsize: number,
  cdw11: Partial<Record<'PC' | 'IEN' | 'IV', number>>,
  prp1?: bigint,
) {
  return h.admin({
    opcode: AdminOpcode.CREATE_IO_CQ,
    prp1: prp1 ?? h.alloc(PAGE * 4),
    cdw10: packFields(CREATE_IO_CQ.CDW10, { QID: qid, QSIZE: qsize }),
    cdw11: packFields(CREATE_IO_CQ.CDW11, { PC: 1, IEN: 1, IV: 0, ...cdw11 }),
  });
}

function createSqRaw(
  h: ScriptedHost,
  qid: number,
  qsize: number,
  cdw11: Partial<Record<'PC' | 'CQID', number>>,
  prp1?: bigint,
) {
  return h.admin({
    opcode: AdminOpcode.CREATE_IO_SQ,
    prp1: prp1 ?? h.alloc(PAGE * 16),
    cdw10: packFields(CREATE_IO_SQ.CDW10, { QID: qid, QSIZE: qsize }),
    cdw11: packFields(CREATE_IO_SQ.CDW11, { PC: 1, CQID: 1, ...cdw11 }),
  });
}

describe('Create I/O CQ (Q-7)', () => {
  it('QID 0 → 1/01h', () => expect(createCqRaw(up(), 0, 15, {}).status).toBe(Status.QID_INVALID));
  it('QID above the allocated count → 1/01h', () =>
    expect(createCqRaw(up({ maxIoQueues: 4 }), 5, 15, {}).status).toBe(Status.QID_INVALID));
  it('QID = number of queues + 1 never indexes out of bounds (Linux fix #18)', () => {
    const h = up({ maxIoQueues: 2 });
    expect(createCqRaw(h, 3, 15, {}).status).toBe(Status.QID_INVALID);
    expect(createCqRaw(h, 0xffff, 15, {}).status).toBe(Status.QID_INVALID);
  });
  it('QID in use → 1/01h', () => {
    const h = up();
    expect(createCqRaw(h, 1, 15, {}).status).toBe(0);
    expect(createCqRaw(h, 1, 15, {}).status).toBe(Status.QID_INVALID);
  });
  it('QSIZE 0 → 1/02h (Q-2)', () => expect(createCqRaw(up(), 1, 0, {}).status).toBe(Status.QUEUE_SIZE));
  it('QSIZE above MQES → 1/02h (Q-2)', () =>
    expect(createCqRaw(up({ mqes: 63 }), 1, 64, {}).status).toBe(Status.QUEUE_SIZE));
  it('QSIZE = MQES is accepted', () => expect(createCqRaw(up({ mqes: 63 }), 1, 63, {}).status).toBe(0));
  it('PRP1 with a page offset → 0/13h (P-14)', () => {
    const h = up();
    expect(createCqRaw(h, 1, 15, {}, h.alloc(PAGE * 2) + 0x800n).status).toBe(Status.PRP_INVALID_OFFSET);
  });
  it('PC = 0 with CAP.CQR = 1 → 0/02h', () =>
    expect(createCqRaw(up(), 1, 15, { PC: 0 }).status).toBe(Status.INVALID_FIELD));
  it('IV beyond the MSI-X vectors → 1/08h', () =>
    expect(createCqRaw(up({ msixVectors: 5 }), 1, 15, { IV: 5 }).status).toBe(Status.INVALID_VECTOR));
  it('IV ≠ 0 without MSI-X or MSI (INTx) → 1/08h', () =>
    expect(createCqRaw(up({}, 'intx'), 1, 15, { IV: 1 }).status).toBe(Status.INVALID_VECTOR));
  it('IV within the enabled MSI vectors is accepted', () =>
    expect(createCqRaw(up({}, 'msi'), 1, 15, { IV: 3 }).status).toBe(0));
  it('checks in QEMU nvme_create_cq() order: IV before PC (found by the QEMU differential check)', () =>
    expect(createCqRaw(up({ msixVectors: 5 }), 1, 15, { PC: 0, IV: 5 }).status).toBe(Status.INVALID_VECTOR));
  it('CC.IOCQES = 0 at creation → 1/02h (accepted at enable, required before queues)', () => {
    const h = new ScriptedHost();
    h.enable({ cc: { IOSQES: 0, IOCQES: 0 } });
    expect(createCqRaw(h, 1, 15, {}).status).toBe(Status.QUEUE_SIZE);
  });
});

describe('Create I/O SQ (Q-8)', () => {
  function withCq() {
    const h = up({ maxIoQueues: 4 });
    expect(createCqRaw(h, 1, 15, {}).status).toBe(0);
    return h;
  }
  it('CQID 0 → 1/00h', () => expect(createSqRaw(withCq(), 1, 15, { CQID: 0 }).status).toBe(Status.CQ_INVALID));
  it('CQID of no CQ → 1/00h', () => expect(createSqRaw(withCq(), 1, 15, { CQID: 2 }).status).toBe(Status.CQ_INVALID));
  it('CQID beyond every doorbell → 1/00h', () =>
    expect(createSqRaw(withCq(), 1, 15, { CQID: 0xffff }).status).toBe(Status.CQ_INVALID));
  it('QID 0 → 1/01h', () => expect(createSqRaw(withCq(), 0, 15, {}).status).toBe(Status.QID_INVALID));
  it('QID above the allocated count → 1/01h', () =>
    expect(createSqRaw(withCq(), 5, 15, {}).status).toBe(Status.QID_INVALID));
  it('QID in use → 1/01h', () => {
    const h = withCq();
    expect(createSqRaw(h, 1, 15, {}).status).toBe(0);
    expect(createSqRaw(h, 1, 15, {}).status).toBe(Status.QID_INVALID);
  });
  it('checks in QEMU nvme_create_sq() order: CQID before QID (found by the QEMU differential check)', () =>
    expect(createSqRaw(withCq(), 5, 15, { CQID: 7 }).status).toBe(Status.CQ_INVALID));
  it('QSIZE 0 → 1/02h', () => expect(createSqRaw(withCq(), 1, 0, {}).status).toBe(Status.QUEUE_SIZE));
  it('QSIZE above MQES → 1/02h', () => expect(createSqRaw(withCq(), 1, 1024, {}).status).toBe(Status.QUEUE_SIZE));
  it('PRP1 with a page offset → 0/13h', () => {
    const h = withCq();
    expect(createSqRaw(h, 1, 15, {}, h.alloc(PAGE * 2) + 0x40n).status).toBe(Status.PRP_INVALID_OFFSET);
  });
  it('PC = 0 → 0/02h', () => expect(createSqRaw(withCq(), 1, 15, { PC: 0 }).status).toBe(Status.INVALID_FIELD));
  it('CC.IOSQES = 0 at creation → 1/02h', () => {
    const h = new ScriptedHost();
    h.enable({ cc: { IOSQES: 0 } });
    expect(createCqRaw(h, 1, 15, {}).status).toBe(0);
    expect(createSqRaw(h, 1, 15, {}).status).toBe(Status.QUEUE_SIZE);
  });
  it('several SQs may share one CQ, and completions carry their SQID', () => {
    const h = up();
    h.createCq(1, 64);
    expect(h.createSq(1, 16, 1).status).toBe(0);
    expect(h.createSq(2, 16, 1).status).toBe(0);
    expect(h.createSq(3, 16, 1).status).toBe(0);
    for (const qid of [1, 2, 3]) {
      const c = h.run(qid, { opcode: NvmOpcode.FLUSH, nsid: 1 });
      expect(c.status).toBe(0);
      expect(c.sqid).toBe(qid);
    }
  });
});

describe('Delete I/O SQ and CQ (Q-9)', () => {
  it('Delete SQ of QID 0 or no SQ → 1/01h', () => {
    const h = up();
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_SQ, cdw10: 0 }).status).toBe(Status.QID_INVALID);
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_SQ, cdw10: 3 }).status).toBe(Status.QID_INVALID);
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_SQ, cdw10: 0xffff }).status).toBe(Status.QID_INVALID);
  });
  it('Delete CQ of QID 0 or no CQ → 1/01h (spec)', () => {
    const h = up();
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_CQ, cdw10: 0 }).status).toBe(Status.QID_INVALID);
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_CQ, cdw10: 7 }).status).toBe(Status.QID_INVALID);
  });
  it("Delete CQ of no CQ → 1/00h with deleteCqInvalidQid: 'qemu'", () => {
    const h = up({ options: { deleteCqInvalidQid: 'qemu' } });
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_CQ, cdw10: 0 }).status).toBe(Status.CQ_INVALID);
    expect(h.admin({ opcode: AdminOpcode.DELETE_IO_CQ, cdw10: 7 }).status).toBe(Status.CQ_INVALID);
  });
  it('Delete CQ with an SQ still on it → 1/0Ch; after the SQ is gone it succeeds', () => {
    const h = up();
    h.createPair(1, 16);
    expect(h.deleteCq(1).status).toBe(Status.INVALID_QUEUE);
    expect(h.deleteSq(1).status).toBe(0);
    expect(h.deleteCq(1).status).toBe(0);
    expect(h.epc.liveMaps.length).toBe(1);
  });
  it('commands waiting in a deleted SQ complete with 0/08h before the Delete completes', () => {
    const h = up();
    h.createPair(1, 16);
    // Burst 1: only one command per round, so the others are still in the ring at delete time.
    h.admin({ opcode: AdminOpcode.SET_FEATURES, cdw10: FeatureId.ARBITRATION, cdw11: 0 });
    const cids = [0, 1, 2, 3].map(() => h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 }));
    h.ring(1);
    const del = h.submit(0, { opcode: AdminOpcode.DELETE_IO_SQ, cdw10: 1 });
    h.ring(0);
    h.fn.poll();
    const cqes = h.reap(1);
    const adminCqes = h.reap(0);
    expect(adminCqes.find((c) => c.cid === del)?.status).toBe(0);
    expect(cqes.map((c) => c.cid)).toEqual(cids);
    expect(cqes.map((c) => c.status)).toEqual([
      Status.ABORT_QUEUE,
      Status.ABORT_QUEUE,
      Status.ABORT_QUEUE,
      Status.ABORT_QUEUE,
    ]);
    expect(cqes.at(-1)?.sqhd).toBe(4);
  });
  it('IEN=1 CQ deleted then recreated with IEN=0 raises no interrupt (Linux fix #7)', () => {
    const h = up();
    h.createPair(1, 16);
    h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(h.irqCount(1)).toBe(1);
    h.deleteSq(1);
    h.deleteCq(1);
    h.createCq(1, 16, { iv: 1, ien: false });
    h.createSq(1, 16, 1);
    h.run(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    expect(h.irqCount(1)).toBe(1);
  });
});

describe('opcode spaces by queue (Q-12)', () => {
  it('an admin opcode on an I/O queue and an I/O opcode on the admin queue are 0/01h', () => {
    const h = up();
    h.createPair(1, 16);
    expect(h.run(1, { opcode: AdminOpcode.IDENTIFY, nsid: 1, cdw10: 1 }).status).toBe(Status.INVALID_OPCODE);
    expect(h.run(1, { opcode: AdminOpcode.GET_FEATURES, nsid: 1, cdw10: 7 }).status).toBe(Status.INVALID_OPCODE);
    expect(h.run(1, { opcode: AdminOpcode.FIRMWARE_COMMIT, nsid: 1 }).status).toBe(Status.INVALID_OPCODE);
    expect(h.admin({ opcode: NvmOpcode.RESERVATION_REPORT, nsid: 1 }).status).toBe(Status.INVALID_OPCODE);
    expect(h.admin({ opcode: AdminOpcode.FORMAT_NVM, nsid: 1 }).status).toBe(Status.INVALID_OPCODE);
    expect(h.admin({ opcode: AdminOpcode.KEEP_ALIVE }).status).toBe(Status.INVALID_OPCODE);
    // Opcode 0Ch is Asynchronous Event Request on the admin queue and Verify on an I/O queue.
    expect(h.run(1, { opcode: 0x0c, nsid: 1, cdw10: 0, cdw12: 7 }).status).toBe(0);
    expect(h.fn.stats.commandsFetched - h.fn.stats.commandsCompleted).toBe(0);
    h.submit(0, { opcode: 0x0c });
    h.ring(0);
    h.fn.poll();
    expect(h.fn.stats.commandsFetched - h.fn.stats.commandsCompleted).toBe(1);
  });
  it('FUSE ≠ 0 → 0/02h on both queues', () => {
    const h = up();
    h.createPair(1, 16);
    expect(h.admin({ opcode: AdminOpcode.IDENTIFY, fuse: 1, prp1: h.alloc(PAGE), cdw10: 1 }).status).toBe(
      Status.INVALID_FIELD,
    );
    expect(h.run(1, { opcode: NvmOpcode.FLUSH, fuse: 2, nsid: 1 }).status).toBe(Status.INVALID_FIELD);
  });
});
