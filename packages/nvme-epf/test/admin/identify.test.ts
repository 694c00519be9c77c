/** Identify (C-A1): controller, namespace, lists, descriptors, the I/O command set CNS values, and P-11. */
import {
  AdminOpcode,
  Cns,
  decodeIdentifyController,
  decodeIdentifyNamespace,
  decodeNsIdDescriptors,
  decodeNsidList,
  encodeSgl,
  IDENTIFY,
  Nidt,
  packFields,
  Status,
  sglDescriptor,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { NvmeFunctionConfigInput } from '../../src/index.js';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

function up(config: NvmeFunctionConfigInput = {}): ScriptedHost {
  const h = new ScriptedHost({ config });
  h.enable();
  return h;
}

function identify(h: ScriptedHost, cns: number, nsid = 0, csi = 0) {
  const buf = h.alloc(PAGE);
  const c = h.admin({
    opcode: AdminOpcode.IDENTIFY,
    nsid,
    prp1: buf,
    cdw10: cns,
    cdw11: packFields(IDENTIFY.CDW11, { CSI: csi }),
  });
  return { c, data: h.read(buf, PAGE) };
}

const THREE_NAMESPACES: NvmeFunctionConfigInput = {
  namespaces: [
    { blockSize: 512, blocks: 2048, backend: { kind: 'ram' } },
    { blockSize: 4096, blocks: 1 << 28, backend: { kind: 'ram' } },
    { blockSize: 512, blocks: 10, backend: { kind: 'null' } },
  ],
};

describe('Identify Controller (CNS 01h)', () => {
  it('reports the fields a host relies on', () => {
    const h = up({ serial: 'SN42', model: 'Model X', firmware: 'FW1', mqes: 255, maxIoQueues: 8 });
    const { c, data } = identify(h, Cns.CONTROLLER);
    expect(c.status).toBe(0);
    const id = decodeIdentifyController(data);
    expect(id).toMatchObject({
      vid: 0x1b96,
      ssvid: 0x1b96,
      sn: 'SN42',
      mn: 'Model X',
      fr: 'FW1',
      mdts: 7,
      cntlid: 1,
      ver: 0x20000,
      oacs: 0,
      acl: 3,
      aerl: 3,
      elpe: 63,
      npss: 0,
      sqes: 0x66,
      cqes: 0x44,
      maxcmd: 256,
      nn: 1,
      oncs: 0b1000_1101,
      vwc: 0b111,
      sgls: (1 << 16) | 1,
      subnqn: 'nqn.2024-11.io.epfsim:nvme-epf:SN42',
    });
    expect(id.frmw & 0b1111).toBe(0b0011);
    expect(id.lpa & 0b110).toBe(0b110);
    expect(id.psd[0]?.mp).toBeGreaterThan(0);
  });

  it('MDTS follows the configuration (0 = no limit); SGLS follows the options', () => {
    expect(decodeIdentifyController(identify(up({ mdtsBytes: 0 }), Cns.CONTROLLER).data).mdts).toBe(0);
    expect(decodeIdentifyController(identify(up({ mdtsBytes: 2 * 1024 * 1024 }), Cns.CONTROLLER).data).mdts).toBe(9);
    const none = decodeIdentifyController(identify(up({ options: { sglSupport: 'none' } }), Cns.CONTROLLER).data);
    expect(none.sgls).toBe(0);
    const dword = decodeIdentifyController(
      identify(up({ options: { sglSupport: 'dword', sglBitBucket: false, sglExcessLength: true } }), Cns.CONTROLLER)
        .data,
    );
    expect(dword.sgls).toBe((1 << 18) | 2);
  });
});

describe('Identify Namespace (CNS 00h)', () => {
  it('reports size, one LBA format and deallocate behaviour', () => {
    const h = up(THREE_NAMESPACES);
    const ns1 = decodeIdentifyNamespace(identify(h, Cns.NAMESPACE, 1).data);
    expect(ns1).toMatchObject({ nsze: 2048n, ncap: 2048n, nuse: 2048n, nlbaf: 0, flbas: 0, dlfeat: 0b1001 });
    expect(ns1.lbaf[0]).toEqual({ ms: 0, lbads: 9, rp: 0 });
    const ns2 = decodeIdentifyNamespace(identify(h, Cns.NAMESPACE, 2).data);
    expect(ns2.nsze).toBe(1n << 28n);
    expect(ns2.lbaf[0]?.lbads).toBe(12);
  });

  it('NSID 0, FFFFFFFFh and beyond NN → 0/0Bh', () => {
    const h = up(THREE_NAMESPACES);
    for (const nsid of [0, 4, 0xffffffff]) expect(identify(h, Cns.NAMESPACE, nsid).c.status).toBe(Status.INVALID_NS);
  });
});

describe('namespace lists and descriptors', () => {
  it('CNS 02h lists active NSIDs above CDW1.NSID; FFFFFFFEh/FFFFFFFFh → 0/0Bh', () => {
    const h = up(THREE_NAMESPACES);
    expect(decodeNsidList(identify(h, Cns.ACTIVE_NSID_LIST, 0).data)).toEqual([1, 2, 3]);
    expect(decodeNsidList(identify(h, Cns.ACTIVE_NSID_LIST, 1).data)).toEqual([2, 3]);
    expect(decodeNsidList(identify(h, Cns.ACTIVE_NSID_LIST, 3).data)).toEqual([]);
    expect(identify(h, Cns.ACTIVE_NSID_LIST, 0xfffffffe).c.status).toBe(Status.INVALID_NS);
    expect(identify(h, Cns.ACTIVE_NSID_LIST, 0xffffffff).c.status).toBe(Status.INVALID_NS);
  });

  it('CNS 07h (NVM command set) lists the same; another CSI → 0/02h', () => {
    const h = up(THREE_NAMESPACES);
    expect(decodeNsidList(identify(h, Cns.CSI_ACTIVE_NSID_LIST, 0, 0).data)).toEqual([1, 2, 3]);
    expect(identify(h, Cns.CSI_ACTIVE_NSID_LIST, 0, 2).c.status).toBe(Status.INVALID_FIELD);
  });

  it('CNS 03h gives EUI-64, NGUID and CSI descriptors, stable and distinct per namespace', () => {
    const h = up(THREE_NAMESPACES);
    const d1 = decodeNsIdDescriptors(identify(h, Cns.NS_ID_DESCRIPTOR_LIST, 1).data);
    const d2 = decodeNsIdDescriptors(identify(h, Cns.NS_ID_DESCRIPTOR_LIST, 2).data);
    expect(d1.map((d) => d.nidt)).toEqual([Nidt.EUI64, Nidt.NGUID, Nidt.CSI]);
    expect(d1[2]?.nid).toEqual(Uint8Array.of(0));
    expect(d1[1]?.nid).not.toEqual(d2[1]?.nid);
    const ns1 = decodeIdentifyNamespace(identify(h, Cns.NAMESPACE, 1).data);
    expect(ns1.nguid).toEqual(d1[1]?.nid);
    expect(identify(h, Cns.NS_ID_DESCRIPTOR_LIST, 9).c.status).toBe(Status.INVALID_NS);
  });

  it('CNS 05h/06h (NVM) answer zeroes; 08h names an active namespace or is 0/0Bh', () => {
    const h = up();
    const ns = identify(h, Cns.CSI_NAMESPACE, 1, 0);
    expect(ns.c.status).toBe(0);
    expect(ns.data.every((b) => b === 0)).toBe(true);
    expect(identify(h, Cns.CSI_CONTROLLER, 0, 0).c.status).toBe(0);
    expect(identify(h, Cns.CSI_NAMESPACE, 1, 2).c.status).toBe(Status.INVALID_FIELD);
    expect(identify(h, Cns.CSI_CONTROLLER, 0, 1).c.status).toBe(Status.INVALID_FIELD);
    expect(identify(h, Cns.CSI_INDEPENDENT_NAMESPACE, 5).c.status).toBe(Status.INVALID_NS);
  });

  it('CNS 08h puts NSTAT at byte 14 (Namespace Ready) and leaves ENDGID, bytes 13:12, zero', () => {
    // NVMe Base 2.0, I/O Command Set Independent Identify Namespace Data Structure: bytes 13:12
    // ENDGID, byte 14 NSTAT (bit 0 NRDY), bytes 4095:15 reserved.
    const indep = identify(up(), Cns.CSI_INDEPENDENT_NAMESPACE, 1);
    expect(indep.c.status).toBe(0);
    expect(indep.data[14]).toBe(0b1);
    expect([indep.data[12], indep.data[13]]).toEqual([0, 0]);
    expect(indep.data.subarray(15).every((b) => b === 0)).toBe(true);
  });

  it('an unknown CNS → 0/02h', () => {
    const h = up();
    for (const cns of [0x04, 0x10, 0x1f, 0xff]) expect(identify(h, cns).c.status).toBe(Status.INVALID_FIELD);
  });
});

describe('admin commands use PRPs only (P-11)', () => {
  it('Identify with PSDT 01b (an SGL) → 0/02h (V-35)', () => {
    const h = up();
    const b = encodeSgl(sglDescriptor({ address: h.alloc(PAGE), length: PAGE }));
    const v = new DataView(b.buffer);
    const c = h.admin({
      opcode: AdminOpcode.IDENTIFY,
      psdt: 1,
      prp1: v.getBigUint64(0, true),
      prp2: v.getBigUint64(8, true),
      cdw10: 1,
    });
    expect(c.status).toBe(Status.INVALID_FIELD);
  });

  it('Identify with PRP1 offset 1, 2, 3 → 0/13h; offset 4 copies across two pages', () => {
    const h = up();
    const buf = h.alloc(3 * PAGE);
    for (const off of [1n, 2n, 3n, 501n]) {
      expect(h.admin({ opcode: AdminOpcode.IDENTIFY, prp1: buf + off, prp2: buf + 0x1000n, cdw10: 1 }).status).toBe(
        Status.PRP_INVALID_OFFSET,
      );
    }
    expect(h.admin({ opcode: AdminOpcode.IDENTIFY, prp1: buf + 4n, prp2: buf + 0x1000n, cdw10: 1 }).status).toBe(0);
    expect(decodeIdentifyController(h.read(buf + 4n, PAGE)).sqes).toBe(0x66);
  });
});
