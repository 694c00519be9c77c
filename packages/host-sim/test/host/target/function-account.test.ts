import { EpcError, findProfile } from '@epfsim/epc-core';
import type { TraceEvent } from '@epfsim/nvme-epf';
import { Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { isNvmeDriverError } from '../../../src/host/errors.js';
import { createTestbed } from '../../../src/host/target/epfsim-target.js';
import {
  formatFunctionAccount,
  functionAccount,
  functionCommandErrors,
} from '../../../src/host/target/function-account.js';
import { bringUpDriver } from '../../../src/reference/open-target.js';

const ENOMEM = new EpcError('ENOMEM', 'no outbound window can hold 0x9000 bytes', {
  request: { op: 'mapAddr', pciAddr: 0x1000n, size: 0x9000 },
  limit: 'largest window 0x8000',
});

describe('functionCommandErrors', () => {
  it('gives each failed completion the EPC error of its data phase, and only its own', () => {
    const trace: TraceEvent[] = [
      { kind: 'command-error', message: 'data transfer failed: x', qid: 1, cid: 5, opcode: 2, epc: ENOMEM },
      {
        kind: 'command-error',
        message: 'SQ 1 CID 5 opcode 0x2: status 0/04',
        qid: 1,
        cid: 5,
        opcode: 2,
        status: Status.DATA_XFER_ERROR,
      },
      { kind: 'reset', message: 'controller reset' },
      {
        kind: 'command-error',
        message: 'SQ 1 CID 6 opcode 0x2: status 0/13',
        qid: 1,
        cid: 6,
        opcode: 2,
        status: Status.PRP_INVALID_OFFSET,
      },
    ];
    const errors = functionCommandErrors(trace);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({
      qid: 1,
      cid: 5,
      status: '0/04h Data Transfer Error (DNR)',
      epc: {
        errno: 'ENOMEM',
        request: { op: 'mapAddr', pciAddr: '0x1000', size: 0x9000 },
        limit: 'largest window 0x8000',
      },
    });
    expect(errors[0]?.epc?.text).toBe(
      'ENOMEM: mapAddr 0x1000+0x9000: no outbound window can hold 0x9000 bytes (largest window 0x8000)',
    );
    expect(errors[1]).toMatchObject({ cid: 6, status: '0/13h PRP Offset Invalid (DNR)' });
    expect(errors[1]).not.toHaveProperty('epc');
  });
});

describe('functionAccount', () => {
  it('of a controller that came up cleanly: ready, no root cause', () => {
    const testbed = createTestbed({ profile: 'rk3588' });
    bringUpDriver(testbed, { placement: 'linux', seed: 1, profile: findProfile('rk3588')! });
    const a = functionAccount(testbed);
    expect(a).toMatchObject({ state: 'ready', csts: { rdy: 1, cfs: 0 }, commandErrors: [], failedCompletions: 0 });
    expect(a.rootCause).toBeUndefined();
    expect(a.events).toBeUndefined();
    testbed.close();
  });

  it('of one whose only window the admin CQ holds: CSTS.CFS and the SQ fetch that set it, with events on request', () => {
    const dwc = findProfile('dwc')!;
    const profile = { ...dwc, windows: [{ physBase: 0x4000_0000, size: 0x10000, pageSize: 0x10000 }] };
    const testbed = createTestbed({ profile });
    let thrown: unknown;
    try {
      bringUpDriver(testbed, { placement: 'linux', seed: 1, profile });
    } catch (e) {
      thrown = e;
    }
    expect(isNvmeDriverError(thrown)).toBe(true);
    const a = functionAccount(testbed, { events: true });
    expect(a.state).toBe('fatal');
    expect(a.csts.cfs).toBe(1);
    expect(a.fatal).toMatchObject({ kind: 'controller-fatal', qid: 0, epc: { errno: 'ENOMEM' } });
    expect(a.rootCause).toMatch(/^CSTS\.CFS set: SQ 0: fetching entry 0 failed \(ENOMEM: memMap 0x[0-9a-f]+\+0x40:/);
    expect(a.epc).toMatchObject({ memMapFailures: 1, liveMaps: 1, queueMaps: 1 });
    expect(a.events?.map((e) => e.kind)).toEqual(['controller-fatal']);
    const text = formatFunctionAccount(a).join('\n');
    expect(text).toContain('root cause: CSTS.CFS set: SQ 0: fetching entry 0 failed (ENOMEM');
    expect(text).toContain('events (1, oldest first):');
    testbed.close();
  });
});
