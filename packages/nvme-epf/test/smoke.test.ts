import { AdminOpcode, Cns, decodeIdentifyController, NvmOpcode, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { pattern, ScriptedHost } from './helpers/scripted-host.js';

describe('smoke', () => {
  it('enables, identifies, creates queues, writes and reads back', () => {
    const h = new ScriptedHost();
    h.enable();
    expect(h.ready).toBe(true);
    const buf = h.alloc(4096);
    const c = h.admin({ opcode: AdminOpcode.IDENTIFY, prp1: buf, cdw10: Cns.CONTROLLER });
    expect(c.status).toBe(0);
    const id = decodeIdentifyController(h.read(buf, 4096));
    expect(id.sn).toBe('EPFSIM-0001');
    h.createPair(1, 64);
    const data = pattern(8192);
    const wbuf = h.alloc(8192);
    h.write(wbuf, data);
    const w = h.run(1, { opcode: NvmOpcode.WRITE, nsid: 1, ...h.prps(wbuf, 8192), cdw10: 10, cdw12: 15 });
    expect(w.status).toBe(0);
    const rbuf = h.alloc(8192);
    const r = h.run(1, { opcode: NvmOpcode.READ, nsid: 1, ...h.prps(rbuf, 8192), cdw10: 10, cdw12: 15 });
    expect(r.status).toBe(0);
    expect(h.read(rbuf, 8192)).toEqual(data);
    const bad = h.run(1, { opcode: 0x7f, nsid: 1 });
    expect(bad.status).toBe(Status.INVALID_OPCODE);
  });
});
