/** Get Log Page (C-A2): every log, offsets and lengths, SMART counters that move, the error log. */
import {
  AdminOpcode,
  decodeCommandEffectsLog,
  decodeErrorInformation,
  decodeFirmwareSlotLog,
  decodeSmartLog,
  encodeGetLogPage,
  Lid,
  NvmOpcode,
  Status,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { PAGE, pattern, ScriptedHost } from '../helpers/scripted-host.js';

function up() {
  const h = new ScriptedHost();
  h.enable();
  h.createPair(1, 64);
  return h;
}

function getLog(
  h: ScriptedHost,
  lid: number,
  length: number,
  opts: { offset?: bigint; nsid?: number; rae?: boolean } = {},
) {
  const buf = h.alloc(Math.max(length, PAGE) + PAGE);
  const c = h.admin({
    opcode: AdminOpcode.GET_LOG_PAGE,
    nsid: opts.nsid ?? 0xffffffff,
    ...h.prps(buf, length),
    ...encodeGetLogPage({ lid, length, offset: opts.offset ?? 0n, rae: opts.rae ?? false }),
  });
  return { c, data: h.read(buf, length) };
}

describe('SMART / Health (02h)', () => {
  it('counts reads, writes and data units (thousands of 512 B, rounded up)', () => {
    const h = up();
    const before = decodeSmartLog(getLog(h, Lid.SMART_HEALTH, 512).data);
    expect(before.powerCycles).toBe(1n);
    expect(before.dataUnitsWritten).toBe(0n);
    const buf = h.alloc(64 * 1024);
    h.write(buf, pattern(64 * 1024));
    for (let i = 0; i < 3; i++)
      h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...h.prps(buf, 65536), cdw10: i * 128, cdw12: 127 });
    h.run(1, { opcode: NvmOpcode.READ, nsid: 1, ...h.prps(buf, 512), cdw12: 0 });
    h.run(1, { opcode: NvmOpcode.COMPARE, nsid: 1, ...h.prps(buf, 512), cdw12: 0 });
    const after = decodeSmartLog(getLog(h, Lid.SMART_HEALTH, 512).data);
    expect(after.hostWriteCommands).toBe(3n);
    expect(after.hostReadCommands).toBe(2n);
    // 3 × 128 units of 512 B = 384 → 1 (rounded up); 1 unit read → 1.
    expect(after.dataUnitsWritten).toBe(1n);
    expect(after.dataUnitsRead).toBe(1n);
    expect(after.compositeTemperature).toBe(313);
  });

  it('counts by the specification: units read = Compare + Read + Verify blocks, read commands = Compare + Read, writes = Write only', () => {
    // NVMe 1.4 §5.14.1.2, SMART / Health log: Data Units Read (bytes 47:32) include the blocks of
    // Compare, Read and Verify; Data Units Written (63:48) those of Write, not Write Zeroes; Host
    // Read Commands (79:64) count Compare and Read; Host Write Commands (95:80) count Write. Units
    // are thousands of 512-byte blocks, rounded up: the sums below sit just across 1000.
    const h = up();
    const buf = h.alloc(PAGE);
    h.write(buf, pattern(PAGE));
    const one = (opcode: number) => h.run(1, { opcode, nsid: 1, ...h.prps(buf, 512), cdw10: 0, cdw12: 0 });
    expect(one(NvmOpcode.WRITE).status).toBe(0);
    expect(one(NvmOpcode.READ).status).toBe(0);
    expect(one(NvmOpcode.COMPARE).status).toBe(0);
    // 999 blocks verified: with the Read and the Compare, 1001 blocks read, 2 data units.
    expect(h.run(1, { opcode: NvmOpcode.VERIFY, nsid: 1, cdw10: 8, cdw12: 998 }).status).toBe(0);
    // 2000 blocks of Write Zeroes: counted nowhere (else units written would be 3).
    expect(h.run(1, { opcode: NvmOpcode.WRITE_ZEROES, nsid: 1, cdw10: 2048, cdw12: 1999 }).status).toBe(0);
    const log = getLog(h, Lid.SMART_HEALTH, 512).data;
    const u128 = (off: number) => new DataView(log.buffer, log.byteOffset).getBigUint64(off, true);
    expect({
      dataUnitsRead: u128(32),
      dataUnitsWritten: u128(48),
      hostReadCommands: u128(64),
      hostWriteCommands: u128(80),
    }).toEqual({ dataUnitsRead: 2n, dataUnitsWritten: 1n, hostReadCommands: 2n, hostWriteCommands: 1n });
    // The upper halves of the 128-bit counters stay zero.
    for (const off of [40, 56, 72, 88]) expect(u128(off)).toBe(0n);
  });

  it('counts unsafe shutdowns (reset without SHN), power cycles after shutdown, error log entries', () => {
    const h = up();
    h.run(1, { opcode: 0x7e, nsid: 1 });
    h.disable();
    h.enable();
    h.setReg32(0x14, 0x00460001 | (1 << 14));
    h.fn.poll();
    h.setReg32(0x14, 0x00460001);
    h.fn.poll();
    h.adoptAdminQueue();
    const s = decodeSmartLog(getLog(h, Lid.SMART_HEALTH, 512).data);
    expect(s.unsafeShutdowns).toBe(1n);
    expect(s.powerCycles).toBe(2n);
    expect(s.numErrorLogEntries).toBe(1n);
  });

  it('a specific NSID → 0/02h (SMART is controller-wide, LPA bit 0 clear)', () => {
    expect(getLog(up(), Lid.SMART_HEALTH, 512, { nsid: 1 }).c.status).toBe(Status.INVALID_FIELD);
    expect(getLog(up(), Lid.SMART_HEALTH, 512, { nsid: 0 }).c.status).toBe(0);
  });
});

describe('Error Information (01h)', () => {
  it('records status, CID, SQID and the parameter location, newest first', () => {
    const h = up();
    const buf = h.alloc(PAGE);
    const c1 = h.run(1, { opcode: NvmOpcode.READ, nsid: 9, prp1: buf, cdw12: 0 });
    const c2 = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, prp1: buf, cdw10: 0x7fffffff, cdw11: 0x10, cdw12: 0 });
    const { c, data } = getLog(h, Lid.ERROR_INFORMATION, 4096);
    expect(c.status).toBe(0);
    const [e2, e1, empty] = decodeErrorInformation(data);
    expect(e2).toMatchObject({
      errorCount: 2n,
      sqid: 1,
      cid: c2.cid,
      paramErrorLocation: 40,
      lba: 0x10_7fff_ffffn,
      nsid: 1,
    });
    expect(e2!.status >> 1).toBe(Status.LBA_RANGE);
    expect(e1).toMatchObject({ errorCount: 1n, sqid: 1, cid: c1.cid, paramErrorLocation: 4, nsid: 9 });
    expect(e1!.status >> 1).toBe(Status.INVALID_NS);
    expect(empty?.errorCount).toBe(0n);
  });
});

describe('other logs and errors', () => {
  it('Firmware Slot: slot 1 active with the configured revision', () => {
    const fw = decodeFirmwareSlotLog(getLog(up(), Lid.FIRMWARE_SLOT, 512).data);
    expect(fw.afi & 7).toBe(1);
    expect(fw.frs[0]).toBe('1.0');
  });

  it('Commands Supported and Effects lists exactly the implemented opcodes', () => {
    const log = decodeCommandEffectsLog(getLog(up(), Lid.COMMANDS_SUPPORTED_EFFECTS, 4096).data);
    const admin = log.acs.flatMap((v, op) => (v & 1 ? [op] : []));
    const io = log.iocs.flatMap((v, op) => (v & 1 ? [op] : []));
    expect(admin).toEqual([0x00, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x09, 0x0a, 0x0c]);
    expect(io).toEqual([0x00, 0x01, 0x02, 0x05, 0x08, 0x09, 0x0c]);
    expect(log.iocs[NvmOpcode.WRITE]! & 2).toBe(2);
  });

  it('offset and length: a window of a log; misaligned or past the end → 0/02h', () => {
    const h = up();
    const whole = getLog(h, Lid.COMMANDS_SUPPORTED_EFFECTS, 4096).data;
    const part = getLog(h, Lid.COMMANDS_SUPPORTED_EFFECTS, 64, { offset: 1024n });
    expect(part.c.status).toBe(0);
    expect(part.data).toEqual(whole.subarray(1024, 1088));
    // A length past the end moves the log's bytes only (QEMU); the rest of the buffer is left alone.
    const tail = getLog(h, Lid.SMART_HEALTH, 1024);
    expect(tail.c.status).toBe(0);
    expect(tail.data.subarray(512).every((b) => b === 0)).toBe(true);
    // NUMD of 16 GiB with MDTS unlimited → 0/02h, without a 16 GiB buffer.
    const u = new ScriptedHost({ config: { mdtsBytes: 0 } });
    u.enable();
    const huge = u.admin({
      opcode: AdminOpcode.GET_LOG_PAGE,
      nsid: 0xffffffff,
      prp1: u.alloc(PAGE),
      cdw10: 0xffff0002,
      cdw11: 0xffff,
    });
    expect(huge.status).toBe(Status.INVALID_FIELD);
    expect(getLog(h, Lid.SMART_HEALTH, 64, { offset: 2n }).c.status).toBe(Status.INVALID_FIELD);
    expect(getLog(h, Lid.SMART_HEALTH, 64, { offset: 512n }).c.status).toBe(Status.INVALID_FIELD);
  });

  it('more than MDTS → 0/02h', () => {
    const h = new ScriptedHost({ config: { mdtsBytes: 4096 } });
    h.enable();
    expect(getLog(h, Lid.ERROR_INFORMATION, 8192).c.status).toBe(Status.INVALID_FIELD);
  });

  it('an unknown LID → 1/09h (spec; QEMU answers 0/02h)', () => {
    const h = up();
    for (const lid of [0x00, 0x04, 0x06, 0x7f, 0xc0]) expect(getLog(h, lid, 64).c.status).toBe(Status.INVALID_LOG_PAGE);
  });
});
