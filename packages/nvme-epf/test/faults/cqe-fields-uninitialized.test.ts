/**
 * Fault cqe-fields-uninitialized (Linux ffe0398c7d6a, "Always fully initialize completion
 * entries"): a command failed before execution was posted with the SQHD, SQID and CID its entry
 * last held. Correct: every CQE carries its own command's CID, SQ id and SQ head.
 */
import { AdminOpcode, type Cqe, FeatureId, NvmOpcode, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'cqe-fields-uninitialized';
const QID = 1;
const SETTLE_POLLS = 10;
/** An opcode the NVM command set does not have. */
const UNSUPPORTED_OPCODE = 0x7f;
/** SLBA 2^48 - 1: beyond any namespace. */
const SLBA_LOW = 0xffff_ffff;
const SLBA_HIGH = 0xffff;
/** MDTS in the test configuration: 8 blocks of 512 bytes. */
const MDTS_BYTES = 4096;
const BLOCKS_ABOVE_MDTS = MDTS_BYTES / 512 + 1;

const EARLY_FAILURES = [
  {
    what: 'a PRP1 that is not dword aligned',
    fields: (buf: bigint) => ({ opcode: NvmOpcode.READ, nsid: 1, prp1: buf + 1n, cdw12: 0 }),
    status: Status.PRP_INVALID_OFFSET,
  },
  {
    what: 'an unsupported opcode',
    fields: () => ({ opcode: UNSUPPORTED_OPCODE, nsid: 1 }),
    status: Status.INVALID_OPCODE,
  },
  {
    what: 'a transfer above MDTS',
    fields: (buf: bigint) => ({ opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw12: BLOCKS_ABOVE_MDTS - 1 }),
    status: Status.INVALID_FIELD,
  },
] as const;

/**
 * Runs a good admin command (whose CQE the function posts last), then submits the failing command
 * on I/O SQ 1 and returns its CQE as the host finds it in CQ 1, with the admin CQE for comparison.
 */
function scenario(faults: readonly FunctionFaultName[], failure: (typeof EARLY_FAILURES)[number]) {
  const h = new ScriptedHost({ config: { faults, mdtsBytes: MDTS_BYTES } });
  h.enable();
  h.createPair(QID, 16);
  const previous = h.admin({ opcode: AdminOpcode.GET_FEATURES, cdw10: FeatureId.ARBITRATION });
  const cid = h.submit(QID, failure.fields(h.alloc(PAGE)));
  h.ring(QID);
  const cqes: Cqe[] = [];
  for (let i = 0; i < SETTLE_POLLS; i++) {
    h.fn.poll();
    cqes.push(...h.reap(QID));
  }
  expect(cqes).toHaveLength(1);
  return { previous, cid, cqe: cqes[0]! };
}

describe('fault cqe-fields-uninitialized', () => {
  it.each(EARLY_FAILURES)('off: $what gets a CQE with its own CID, SQID and SQHD', (failure) => {
    const { cid, cqe } = scenario([], failure);
    expect(cqe).toMatchObject({ status: failure.status, cid, sqid: QID, sqhd: 1 });
  });

  it.each(EARLY_FAILURES)('on: $what gets the CID, SQID and SQHD of the previous CQE posted', (failure) => {
    const { previous, cid, cqe } = scenario([FAULT], failure);
    expect(cqe.status).toBe(failure.status);
    expect({ cid: cqe.cid, sqid: cqe.sqid, sqhd: cqe.sqhd }).toEqual({
      cid: previous.cid,
      sqid: previous.sqid,
      sqhd: previous.sqhd,
    });
    expect(cqe.cid).not.toBe(cid);
  });

  it('on: a command failing during execution still carries its own fields', () => {
    const h = new ScriptedHost({ config: { faults: [FAULT] } });
    h.enable();
    h.createPair(QID, 16);
    // LBA out of range is found while executing (the Linux core's check, after the data buffer).
    const cqe = h.run(QID, {
      opcode: NvmOpcode.READ,
      nsid: 1,
      prp1: h.alloc(PAGE),
      cdw10: SLBA_LOW,
      cdw11: SLBA_HIGH,
      cdw12: 0,
    });
    expect(cqe).toMatchObject({ status: Status.LBA_RANGE, sqid: QID, sqhd: 1 });
  });
});
