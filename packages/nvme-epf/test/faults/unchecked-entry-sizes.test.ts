/**
 * Fault unchecked-entry-sizes (Linux "fix heap overflow for invalid I/O SQES/CQES from the host"):
 * CC.IOSQES/IOCQES were trusted, so SQEs were fetched 2^IOSQES bytes apart and CQEs written
 * 2^IOCQES bytes long. Correct: CSTS.CFS at enable, 1/02h at queue creation.
 */
import {
  CQE_SIZE,
  CSTS,
  decodeCqe,
  getBits,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NvmOpcode,
  Status,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { PAGE, pattern, ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'unchecked-entry-sizes';
/** IOSQES 7: 128-byte SQ entries. */
const IOSQES_128 = 7;
/** IOCQES 5: 32-byte CQ entries. */
const IOCQES_32 = 5;
/** The sizes the function supports: 64-byte SQEs, 16-byte CQEs. */
const IOSQES_64 = NVME_NVM_IOSQES;
const IOCQES_16 = NVME_NVM_IOCQES;
/** IOSQES/IOCQES 0: allowed at enable, not for I/O queues. */
const UNSET = 0;
const QUEUE_SIZE = 8;
const BLOCK = 512;
const SETTLE_POLLS = 10;

function host(faults: readonly FunctionFaultName[]): ScriptedHost {
  return new ScriptedHost({ config: { faults } });
}

describe('fault unchecked-entry-sizes: enable', () => {
  it.each([
    { IOSQES: IOSQES_128, IOCQES: IOCQES_16 },
    { IOSQES: IOSQES_64, IOCQES: IOCQES_32 },
  ])('off: CC with IOSQES $IOSQES, IOCQES $IOCQES fails the enable with CSTS.CFS', (sizes) => {
    const h = host([]);
    h.enable({ cc: sizes });
    expect(h.ready).toBe(false);
    expect(getBits(h.csts, CSTS.CFS)).toBe(1);
  });

  it.each([
    { IOSQES: IOSQES_128, IOCQES: IOCQES_16 },
    { IOSQES: IOSQES_64, IOCQES: IOCQES_32 },
  ])('on: CC with IOSQES $IOSQES, IOCQES $IOCQES gives RDY', (sizes) => {
    const h = host([FAULT]);
    h.enable({ cc: sizes });
    expect(h.ready).toBe(true);
    expect(h.fatal).toBe(false);
  });
});

describe('fault unchecked-entry-sizes: queue creation (IOSQES and IOCQES of 0 pass the enable)', () => {
  it('off: Create I/O CQ with IOCQES 0 and Create I/O SQ with IOSQES 0 fail with 1/02h', () => {
    const cqHost = host([]);
    cqHost.enable({ cc: { IOSQES: IOSQES_64, IOCQES: UNSET } });
    expect(cqHost.createCq(1, QUEUE_SIZE).status).toBe(Status.QUEUE_SIZE);
    const sqHost = host([]);
    sqHost.enable({ cc: { IOSQES: UNSET, IOCQES: IOCQES_16 } });
    expect(sqHost.createCq(1, QUEUE_SIZE).status).toBe(0);
    expect(sqHost.createSq(1, QUEUE_SIZE, 1).status).toBe(Status.QUEUE_SIZE);
  });

  it('on: both succeed', () => {
    const h = host([FAULT]);
    h.enable({ cc: { IOSQES: UNSET, IOCQES: UNSET } });
    expect(h.createCq(1, QUEUE_SIZE).status).toBe(0);
    expect(h.createSq(1, QUEUE_SIZE, 1).status).toBe(0);
  });
});

describe('fault unchecked-entry-sizes: what the host sees through the queues', () => {
  it('on: SQ entries are fetched 128 bytes apart, so the second command is an empty slot', () => {
    const h = host([FAULT]);
    h.enable({ cc: { IOSQES: IOSQES_128, IOCQES: IOCQES_16 } });
    h.createPair(1, QUEUE_SIZE);
    const first = h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.submit(1, { opcode: NvmOpcode.FLUSH, nsid: 1 });
    h.ring(1);
    for (let i = 0; i < SETTLE_POLLS; i++) h.fn.poll();
    const cqes = h.reap(1);
    // Entry 1 is read at offset 128, the host's (zeroed) slot 2: Flush of NSID 0, CID 0.
    expect(cqes.map((c) => [c.cid, c.status])).toEqual([
      [first, 0],
      [0, Status.INVALID_NS],
    ]);
  });

  it('on: a 32-byte CQE carries 16 bytes of the last command data after the CQE', () => {
    const h = host([FAULT]);
    h.enable({ cc: { IOSQES: IOSQES_64, IOCQES: IOCQES_32 } });
    h.createPair(1, QUEUE_SIZE);
    const data = pattern(BLOCK, 7);
    const buf = h.alloc(PAGE);
    h.write(buf, data);
    const cid = h.submit(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw12: 0 });
    h.ring(1);
    for (let i = 0; i < SETTLE_POLLS; i++) h.fn.poll();
    const cq = h.cq(1)!;
    const entry = h.read(cq.base, 2 ** IOCQES_32);
    expect(decodeCqe(entry.subarray(0, CQE_SIZE))).toMatchObject({ cid, sqid: 1, status: 0, phase: 1 });
    expect([...entry.subarray(CQE_SIZE)]).toEqual([...data.subarray(0, 2 ** IOCQES_32 - CQE_SIZE)]);
  });

  it('off: with 64/16-byte entries the slot after the first CQE is left alone', () => {
    const h = host([]);
    h.enable();
    h.createPair(1, QUEUE_SIZE);
    const buf = h.alloc(PAGE);
    h.write(buf, pattern(BLOCK, 7));
    h.submit(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: buf, cdw12: 0 });
    h.ring(1);
    for (let i = 0; i < SETTLE_POLLS; i++) h.fn.poll();
    const cq = h.cq(1)!;
    expect([...h.read(cq.base + BigInt(CQE_SIZE), CQE_SIZE)]).toEqual(new Array(CQE_SIZE).fill(0));
  });
});
