/**
 * Fault short-sgl-segment-accepted (Linux list patch rejecting too-short SGL segments): a Segment
 * or Last Segment descriptor whose length is 0 or not a multiple of 16 was walked. Correct:
 * 0/0Dh Invalid SGL Segment Descriptor (S-2).
 */
import {
  encodeSgl,
  NvmOpcode,
  Psdt,
  SGL_DESCRIPTOR_SIZE,
  SglType,
  Status,
  sglDescriptor,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { PAGE, pattern, ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'short-sgl-segment-accepted';
const BLOCK = 512;
/** A Last Segment length of one descriptor and a half. */
const SHORT_LENGTH = SGL_DESCRIPTOR_SIZE + SGL_DESCRIPTOR_SIZE / 2;

/** SGL1 (the SQE's DPTR) for one descriptor, as PRP1/PRP2 qwords. */
function dptr(desc: Parameters<typeof sglDescriptor>[0]): { prp1: bigint; prp2: bigint } {
  const v = new DataView(encodeSgl(sglDescriptor(desc)).buffer);
  return { prp1: v.getBigUint64(0, true), prp2: v.getBigUint64(8, true) };
}

/** Writes a block of known data, then reads it back through a Last Segment of `segmentLength` bytes holding one Data Block. */
function readThroughShortSegment(faults: readonly FunctionFaultName[], segmentLength: number) {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  h.createPair(1, 16);
  const data = pattern(BLOCK, 3);
  const src = h.alloc(PAGE);
  h.write(src, data);
  expect(h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, prp1: src, cdw12: 0 }).status).toBe(0);
  const buf = h.alloc(PAGE);
  const list = h.alloc(PAGE);
  h.write(list, encodeSgl(sglDescriptor({ address: buf, length: BLOCK })));
  const cqe = h.run(1, {
    opcode: NvmOpcode.READ,
    nsid: 1,
    psdt: Psdt.SGL_MPTR_CONTIG,
    ...dptr({ address: list, length: segmentLength, type: SglType.LAST_SEGMENT }),
    cdw12: 0,
  });
  return { status: cqe.status, read: h.read(buf, BLOCK), data };
}

describe('fault short-sgl-segment-accepted', () => {
  it.each([SHORT_LENGTH, 0])('off: a Last Segment of %i bytes is 0/0Dh', (length) => {
    expect(readThroughShortSegment([], length).status).toBe(Status.SGL_INVALID_LAST);
  });

  it('on: a Last Segment of 24 bytes is walked as one descriptor: the read succeeds', () => {
    const r = readThroughShortSegment([FAULT], SHORT_LENGTH);
    expect(r.status).toBe(0);
    expect(r.read).toEqual(r.data);
  });

  it('on: a Last Segment of 0 bytes is an empty segment: 0/0Fh instead of 0/0Dh', () => {
    expect(readThroughShortSegment([FAULT], 0).status).toBe(Status.SGL_INVALID_DATA);
  });
});
