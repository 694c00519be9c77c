import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import {
  Cns,
  DeallocateReadBehavior,
  decodeIdentifyController,
  decodeIdentifyNamespace,
  decodeIndependentIdentifyNamespace,
  decodeLbaFormat,
  decodeNsIdDescriptors,
  decodeNsidList,
  encodeIdentifyController,
  encodeIdentifyNamespace,
  encodeIndependentIdentifyNamespace,
  encodeLbaFormat,
  encodeNsIdDescriptors,
  encodeNsidList,
  getBits,
  ID_CTRL,
  ID_CTRL_FRMW,
  ID_CTRL_LPA,
  ID_CTRL_OACS,
  ID_CTRL_ONCS,
  ID_CTRL_PSD,
  ID_CTRL_QES,
  ID_CTRL_SGLS,
  ID_CTRL_VWC,
  ID_INDEP_NS,
  ID_INDEP_NS_NSTAT,
  ID_NS,
  ID_NS_DLFEAT,
  ID_NS_FLBAS,
  ID_NS_LBAF,
  IDENTIFY_DATA_SIZE,
  type IdentifyController,
  type IdentifyNamespace,
  LBAF,
  NIDT_LENGTH,
  Nidt,
  NS_ID_DESC,
  NS_ID_DESC_HEADER_SIZE,
  NVME_VS_1_4,
  PSD,
  packFields,
  SglsSupport,
  VwcFlushBroadcast,
  viewOf,
} from '../src/index.js';
import { asciiText, layoutArb } from './arbitraries.js';
import { expectBitFields, expectBitsDisjointWithin, expectLayout } from './spec-table.js';

describe('Identify layouts (NVMe Base 1.4, Identify data structures)', () => {
  it('CNS values', () => {
    expect(Cns).toEqual({
      NAMESPACE: 0x00,
      CONTROLLER: 0x01,
      ACTIVE_NSID_LIST: 0x02,
      NS_ID_DESCRIPTOR_LIST: 0x03,
      NVM_SET_LIST: 0x04,
      CSI_NAMESPACE: 0x05,
      CSI_CONTROLLER: 0x06,
      CSI_ACTIVE_NSID_LIST: 0x07,
      CSI_INDEPENDENT_NAMESPACE: 0x08,
    });
    expect(IDENTIFY_DATA_SIZE).toBe(4096);
  });

  it('Identify Controller: byte offsets and sizes', () => {
    expectLayout(ID_CTRL, [
      ['VID', 0, 2],
      ['SSVID', 2, 2],
      ['SN', 4, 20],
      ['MN', 24, 40],
      ['FR', 64, 8],
      ['RAB', 72, 1],
      ['IEEE', 73, 3],
      ['CMIC', 76, 1],
      ['MDTS', 77, 1],
      ['CNTLID', 78, 2],
      ['VER', 80, 4],
      ['RTD3R', 84, 4],
      ['RTD3E', 88, 4],
      ['OAES', 92, 4],
      ['CTRATT', 96, 4],
      ['RRLS', 100, 2],
      ['CNTRLTYPE', 111, 1],
      ['FGUID', 112, 16],
      ['CRDT1', 128, 2],
      ['CRDT2', 130, 2],
      ['CRDT3', 132, 2],
      ['OACS', 256, 2],
      ['ACL', 258, 1],
      ['AERL', 259, 1],
      ['FRMW', 260, 1],
      ['LPA', 261, 1],
      ['ELPE', 262, 1],
      ['NPSS', 263, 1],
      ['AVSCC', 264, 1],
      ['APSTA', 265, 1],
      ['WCTEMP', 266, 2],
      ['CCTEMP', 268, 2],
      ['MTFA', 270, 2],
      ['HMPRE', 272, 4],
      ['HMMIN', 276, 4],
      ['TNVMCAP', 280, 16],
      ['UNVMCAP', 296, 16],
      ['RPMBS', 312, 4],
      ['EDSTT', 316, 2],
      ['DSTO', 318, 1],
      ['FWUG', 319, 1],
      ['KAS', 320, 2],
      ['HCTMA', 322, 2],
      ['MNTMT', 324, 2],
      ['MXTMT', 326, 2],
      ['SANICAP', 328, 4],
      ['SQES', 512, 1],
      ['CQES', 513, 1],
      ['MAXCMD', 514, 2],
      ['NN', 516, 4],
      ['ONCS', 520, 2],
      ['FUSES', 522, 2],
      ['FNA', 524, 1],
      ['VWC', 525, 1],
      ['AWUN', 526, 2],
      ['AWUPF', 528, 2],
      ['NVSCC', 530, 1],
      ['NWPC', 531, 1],
      ['ACWU', 532, 2],
      ['SGLS', 536, 4],
      ['MNAN', 540, 4],
      ['SUBNQN', 768, 256],
    ]);
    expect(ID_CTRL_PSD).toEqual({ off: 2048, size: 32, count: 32 });
  });

  it('Power State Descriptor', () => {
    expectLayout(PSD, [
      ['MP', 0, 2],
      ['FLAGS', 3, 1],
      ['ENLAT', 4, 4],
      ['EXLAT', 8, 4],
      ['RRT', 12, 1],
      ['RRL', 13, 1],
      ['RWT', 14, 1],
      ['RWL', 15, 1],
      ['IDLP', 16, 2],
      ['IPS', 18, 1],
      ['ACTP', 20, 2],
      ['APWS', 22, 1],
    ]);
  });

  it('Identify Namespace: byte offsets and sizes, LBA format table', () => {
    expectLayout(ID_NS, [
      ['NSZE', 0, 8],
      ['NCAP', 8, 8],
      ['NUSE', 16, 8],
      ['NSFEAT', 24, 1],
      ['NLBAF', 25, 1],
      ['FLBAS', 26, 1],
      ['MC', 27, 1],
      ['DPC', 28, 1],
      ['DPS', 29, 1],
      ['NMIC', 30, 1],
      ['RESCAP', 31, 1],
      ['FPI', 32, 1],
      ['DLFEAT', 33, 1],
      ['NAWUN', 34, 2],
      ['NAWUPF', 36, 2],
      ['NACWU', 38, 2],
      ['NABSN', 40, 2],
      ['NABO', 42, 2],
      ['NABSPF', 44, 2],
      ['NOIOB', 46, 2],
      ['NVMCAP', 48, 16],
      ['NPWG', 64, 2],
      ['NPWA', 66, 2],
      ['NPDG', 68, 2],
      ['NPDA', 70, 2],
      ['NOWS', 72, 2],
      ['NGUID', 104, 16],
      ['EUI64', 120, 8],
    ]);
    expect(ID_NS_LBAF).toEqual({ off: 128, size: 4, count: 64 });
    expect(ID_NS_LBAF.off + ID_NS_LBAF.size * ID_NS_LBAF.count).toBe(384);
    expectBitFields(LBAF, [
      ['MS', 15, 0],
      ['LBADS', 23, 16],
      ['RP', 25, 24],
    ]);
    expectBitFields(ID_NS_FLBAS, [
      ['FORMAT', 3, 0],
      ['EXTENDED', 4, 4],
    ]);
    expectBitFields(ID_NS_DLFEAT, [
      ['READ_BEHAVIOR', 2, 0],
      ['WRITE_ZEROES_DEALLOCATE', 3, 3],
      ['GUARD_CRC', 4, 4],
    ]);
    expect(DeallocateReadBehavior.ZEROES).toBe(1);
  });

  it('I/O Command Set Independent Identify Namespace (CNS 08h): ENDGID at 13:12, NSTAT at byte 14', () => {
    // NVMe Base 2.0, I/O Command Set Independent Identify Namespace Data Structure (libnvme
    // struct nvme_id_independent_id_ns): bytes 0 NSFEAT, 1 NMIC, 2 RESCAP, 3 FPI, 7:4 ANAGRPID,
    // 8 NSATTR, 9 reserved, 11:10 NVMSETID, 13:12 ENDGID, 14 NSTAT, 4095:15 reserved.
    expectLayout(ID_INDEP_NS, [
      ['NSFEAT', 0, 1],
      ['NMIC', 1, 1],
      ['RESCAP', 2, 1],
      ['FPI', 3, 1],
      ['ANAGRPID', 4, 4],
      ['NSATTR', 8, 1],
      ['NVMSETID', 10, 2],
      ['ENDGID', 12, 2],
      ['NSTAT', 14, 1],
    ]);
    expectBitFields(ID_INDEP_NS_NSTAT, [['NRDY', 0, 0]]);
    const bytes = encodeIndependentIdentifyNamespace({ endgid: 0x1234, nstat: 1 });
    expect([...bytes.subarray(12, 15)]).toEqual([0x34, 0x12, 0x01]);
    expect(decodeIndependentIdentifyNamespace(bytes)).toMatchObject({ endgid: 0x1234, nstat: 1, nsattr: 0 });
  });

  it('capability bit fields', () => {
    expectBitFields(ID_CTRL_ONCS, [
      ['COMPARE', 0, 0],
      ['WRITE_UNCORRECTABLE', 1, 1],
      ['DSM', 2, 2],
      ['WRITE_ZEROES', 3, 3],
      ['SAVE_SELECT', 4, 4],
      ['RESERVATIONS', 5, 5],
      ['TIMESTAMP', 6, 6],
      ['VERIFY', 7, 7],
      ['COPY', 8, 8],
    ]);
    expectBitFields(ID_CTRL_VWC, [
      ['PRESENT', 0, 0],
      ['FLUSH_BROADCAST', 2, 1],
    ]);
    expect(VwcFlushBroadcast).toEqual({ NOT_INDICATED: 0, UNSUPPORTED: 2, SUPPORTED: 3 });
    expectBitFields(ID_CTRL_SGLS, [
      ['SUPPORT', 1, 0],
      ['KEYED', 2, 2],
      ['DESCRIPTOR_THRESHOLD', 15, 8],
      ['BIT_BUCKET', 16, 16],
      ['BYTE_ALIGNED_METADATA', 17, 17],
      ['EXCESS_LENGTH', 18, 18],
      ['MPTR_SGL', 19, 19],
      ['ADDRESS_AS_OFFSET', 20, 20],
      ['TRANSPORT_DATA_BLOCK', 21, 21],
    ]);
    expect(SglsSupport).toEqual({ NONE: 0, BYTE_ALIGNED: 1, DWORD_ALIGNED: 2 });
    expectBitFields(ID_CTRL_QES, [
      ['REQUIRED', 3, 0],
      ['MAX', 7, 4],
    ]);
    expectBitFields(ID_CTRL_FRMW, [
      ['SLOT1_READ_ONLY', 0, 0],
      ['NUM_SLOTS', 3, 1],
      ['ACTIVATE_WITHOUT_RESET', 4, 4],
    ]);
    expectBitFields(ID_CTRL_LPA, [
      ['SMART_PER_NAMESPACE', 0, 0],
      ['COMMANDS_EFFECTS', 1, 1],
      ['EXTENDED_DATA', 2, 2],
      ['TELEMETRY', 3, 3],
      ['PERSISTENT_EVENT', 4, 4],
    ]);
    expectBitFields(ID_CTRL_OACS, [
      ['SECURITY', 0, 0],
      ['FORMAT', 1, 1],
      ['FIRMWARE', 2, 2],
      ['NS_MANAGEMENT', 3, 3],
      ['DEVICE_SELF_TEST', 4, 4],
      ['DIRECTIVES', 5, 5],
      ['NVME_MI', 6, 6],
      ['VIRTUALIZATION_MANAGEMENT', 7, 7],
      ['DOORBELL_BUFFER_CONFIG', 8, 8],
      ['GET_LBA_STATUS', 9, 9],
    ]);
    expectBitsDisjointWithin(ID_CTRL_SGLS, 32);
  });
});

describe('Identify Controller codec', () => {
  it('writes the fields a host reads at their spec offsets', () => {
    const bytes = encodeIdentifyController({
      vid: 0x1b36,
      sn: 'EPF0001',
      mn: 'epfsim NVMe',
      fr: '1.0',
      ieee: 0x525400,
      mdts: 5,
      cntlid: 1,
      ver: NVME_VS_1_4,
      sqes: packFields(ID_CTRL_QES, { REQUIRED: 6, MAX: 6 }),
      cqes: packFields(ID_CTRL_QES, { REQUIRED: 4, MAX: 4 }),
      nn: 1,
      oncs: packFields(ID_CTRL_ONCS, { DSM: 1, WRITE_ZEROES: 1 }),
      sgls: packFields(ID_CTRL_SGLS, { SUPPORT: SglsSupport.DWORD_ALIGNED }),
      tnvmcap: 1n << 80n,
      subnqn: 'nqn.2014-08.org.epfsim:ctrl',
      npss: 0,
      psd: [{ mp: 2500, enlat: 10, exlat: 20 }],
    });
    const view = viewOf(bytes);
    expect(bytes.length).toBe(4096);
    expect(view.getUint16(0, true)).toBe(0x1b36);
    expect(String.fromCharCode(...bytes.subarray(4, 24))).toBe('EPF0001             ');
    expect(String.fromCharCode(...bytes.subarray(64, 72))).toBe('1.0     ');
    expect(Array.from(bytes.subarray(73, 76))).toEqual([0x00, 0x54, 0x52]);
    expect(bytes[77]).toBe(5);
    expect(view.getUint32(80, true)).toBe(0x0001_0400);
    expect([bytes[512], bytes[513]]).toEqual([0x66, 0x44]);
    expect(view.getUint32(516, true)).toBe(1);
    expect(view.getUint16(520, true)).toBe(0b1100);
    expect(getBits(view.getUint32(536, true), ID_CTRL_SGLS.SUPPORT)).toBe(SglsSupport.DWORD_ALIGNED);
    expect(view.getBigUint64(288, true)).toBe(1n << 16n);
    expect(String.fromCharCode(...bytes.subarray(768, 795))).toBe('nqn.2014-08.org.epfsim:ctrl');
    expect(bytes.subarray(795, 1024).every((b) => b === 0)).toBe(true);
    expect(view.getUint16(2048, true)).toBe(2500);
    expect(view.getUint32(2052, true)).toBe(10);
    expect(view.getUint32(2056, true)).toBe(20);

    const back = decodeIdentifyController(bytes);
    expect(back).toMatchObject({ vid: 0x1b36, sn: 'EPF0001', fr: '1.0', nn: 1, subnqn: 'nqn.2014-08.org.epfsim:ctrl' });
    expect(back.psd).toHaveLength(1);
    expect(back.psd[0]).toMatchObject({ mp: 2500, enlat: 10, exlat: 20, flags: 0 });
  });

  it('rejects strings and tables that do not fit', () => {
    expect(() => encodeIdentifyController({ sn: 'x'.repeat(21) })).toThrow(RangeError);
    expect(() => encodeIdentifyController({ subnqn: 'n'.repeat(256) })).toThrow(RangeError);
    expect(() => encodeIdentifyController({ psd: Array.from({ length: 33 }, () => ({})) })).toThrow(RangeError);
  });

  const controllerArb: fc.Arbitrary<IdentifyController> = fc
    .tuple(layoutArb(ID_CTRL), fc.array(layoutArb(PSD), { minLength: 1, maxLength: 32 }))
    .map(([fields, psd]) => ({ ...fields, npss: psd.length - 1, psd }));

  test.prop([controllerArb], { numRuns: 50 })('object → bytes → object is the identity', (ctrl) => {
    expect(decodeIdentifyController(encodeIdentifyController(ctrl))).toEqual(ctrl);
  });

  test.prop([asciiText(20)])('serial numbers of any printable text round-trip', (sn) => {
    expect(decodeIdentifyController(encodeIdentifyController({ sn })).sn).toBe(sn);
  });

  test.prop([controllerArb], { numRuns: 50 })('bytes → object → bytes is byte-exact for encoded data', (ctrl) => {
    const bytes = encodeIdentifyController(ctrl);
    expect(encodeIdentifyController(decodeIdentifyController(bytes))).toEqual(bytes);
  });
});

describe('Identify Namespace codec', () => {
  it('a 512-byte and a 4 KiB format, the second in use', () => {
    const bytes = encodeIdentifyNamespace({
      nsze: 0x10_0000n,
      ncap: 0x10_0000n,
      nuse: 0x10_0000n,
      nlbaf: 1,
      flbas: packFields(ID_NS_FLBAS, { FORMAT: 1 }),
      dlfeat: packFields(ID_NS_DLFEAT, { READ_BEHAVIOR: DeallocateReadBehavior.ZEROES }),
      lbaf: [{ lbads: 9 }, { lbads: 12, rp: 0 }],
    });
    const view = viewOf(bytes);
    expect(view.getBigUint64(0, true)).toBe(0x10_0000n);
    expect([bytes[25], bytes[26], bytes[33]]).toEqual([1, 1, 1]);
    expect(view.getUint32(128, true)).toBe(0x0009_0000);
    expect(view.getUint32(132, true)).toBe(0x000c_0000);
    const ns = decodeIdentifyNamespace(bytes);
    expect(ns.lbaf).toEqual([
      { ms: 0, lbads: 9, rp: 0 },
      { ms: 0, lbads: 12, rp: 0 },
    ]);
    expect(getBits(ns.flbas, ID_NS_FLBAS.FORMAT)).toBe(1);
  });

  it('LBA format dwords', () => {
    expect(encodeLbaFormat({ ms: 8, lbads: 12, rp: 2 })).toBe(0x020c_0008);
    expect(decodeLbaFormat(0x020c_0008)).toEqual({ ms: 8, lbads: 12, rp: 2 });
  });

  const lbafArb = fc.record({ ms: fc.nat({ max: 0xffff }), lbads: fc.nat({ max: 0xff }), rp: fc.nat({ max: 3 }) });
  const namespaceArb: fc.Arbitrary<IdentifyNamespace> = fc
    .tuple(layoutArb(ID_NS), fc.array(lbafArb, { minLength: 1, maxLength: 64 }))
    .map(([fields, lbaf]) => ({ ...fields, nlbaf: lbaf.length - 1, lbaf }));

  test.prop([namespaceArb])('object → bytes → object is the identity', (ns) => {
    expect(decodeIdentifyNamespace(encodeIdentifyNamespace(ns))).toEqual(ns);
  });
});

describe('Namespace Identification Descriptors (CNS 03h)', () => {
  it('header layout and lengths per type', () => {
    expectLayout(NS_ID_DESC, [
      ['NIDT', 0, 1],
      ['NIDL', 1, 1],
    ]);
    expect(NS_ID_DESC_HEADER_SIZE).toBe(4);
    expect(Nidt).toEqual({ EUI64: 1, NGUID: 2, UUID: 3, CSI: 4 });
    expect(NIDT_LENGTH).toEqual({ 1: 8, 2: 16, 3: 16, 4: 1 });
  });

  it('encodes an NGUID then a CSI descriptor', () => {
    const nguid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const bytes = encodeNsIdDescriptors([
      { nidt: Nidt.NGUID, nid: nguid },
      { nidt: Nidt.CSI, nid: Uint8Array.of(0) },
    ]);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([2, 16, 0, 0]);
    expect(bytes.subarray(4, 20)).toEqual(nguid);
    expect(Array.from(bytes.subarray(20, 25))).toEqual([4, 1, 0, 0, 0]);
    expect(bytes[25]).toBe(0);
    expect(decodeNsIdDescriptors(bytes)).toEqual([
      { nidt: Nidt.NGUID, nid: nguid },
      { nidt: Nidt.CSI, nid: Uint8Array.of(0) },
    ]);
  });

  it('rejects a length that does not match the type', () => {
    expect(() => encodeNsIdDescriptors([{ nidt: Nidt.EUI64, nid: new Uint8Array(16) }])).toThrow(RangeError);
  });

  test.prop([
    fc.array(
      fc.constantFrom(Nidt.EUI64, Nidt.NGUID, Nidt.UUID, Nidt.CSI).chain((nidt) =>
        fc.record({
          nidt: fc.constant(nidt),
          nid: fc.uint8Array({ minLength: NIDT_LENGTH[nidt], maxLength: NIDT_LENGTH[nidt] }),
        }),
      ),
      { maxLength: 20 },
    ),
  ])('descriptor lists round-trip', (list) => {
    expect(decodeNsIdDescriptors(encodeNsIdDescriptors(list))).toEqual(list);
  });
});

describe('Active Namespace ID list (CNS 02h)', () => {
  it('is zero terminated, 1024 entries at most', () => {
    const bytes = encodeNsidList([1, 2, 7]);
    expect(Array.from(bytes.subarray(0, 16))).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeNsidList(bytes)).toEqual([1, 2, 7]);
    expect(decodeNsidList(encodeNsidList(Array.from({ length: 1024 }, (_, i) => i + 1)))).toHaveLength(1024);
    expect(() => encodeNsidList(Array.from({ length: 1025 }, (_, i) => i + 1))).toThrow(RangeError);
  });
});
