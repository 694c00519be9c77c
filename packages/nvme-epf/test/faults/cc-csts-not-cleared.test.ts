/**
 * Fault cc-csts-not-cleared (Linux f8e01fa93f3e, CC/CSTS reset on shutdown, link loss and enable
 * failure; and "Correctly initialize CSTS when enabling the controller"): after a shutdown with
 * CC.EN still 1 the function waited for an EN 0→1 edge, and CSTS kept SHST into the next enable.
 * Correct: after a shutdown, a re-enable gives CSTS = RDY exactly.
 */
import {
  CC_SHN,
  CSTS,
  CSTS_SHST,
  encodeCc,
  NVME_NVM_IOCQES,
  NVME_NVM_IOSQES,
  NVME_REG_CC,
  setBits,
} from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { FunctionFaultName } from '../../src/index.js';
import { ScriptedHost } from '../helpers/scripted-host.js';

const FAULT: FunctionFaultName = 'cc-csts-not-cleared';
const POLLS = 10;
const ENTRY_SIZES = { IOSQES: NVME_NVM_IOSQES, IOCQES: NVME_NVM_IOCQES } as const;
const RDY = setBits(0, CSTS.RDY, 1);
const SHUTDOWN_COMPLETE = setBits(0, CSTS.SHST, CSTS_SHST.COMPLETE);

/** Enables, then writes SHN = normal with EN still 1 (what Linux's nvme_disable_ctrl(shutdown) does) and waits for SHST. */
function shutDown(faults: readonly FunctionFaultName[]): ScriptedHost {
  const h = new ScriptedHost({ config: { faults } });
  h.enable();
  h.setReg32(NVME_REG_CC, encodeCc({ EN: 1, SHN: CC_SHN.NORMAL, ...ENTRY_SIZES }));
  h.pollUntil(() => h.csts === SHUTDOWN_COMPLETE, POLLS);
  expect(h.csts).toBe(SHUTDOWN_COMPLETE);
  return h;
}

function writeCc(h: ScriptedHost, en: 0 | 1): void {
  h.setReg32(NVME_REG_CC, encodeCc({ EN: en, ...ENTRY_SIZES }));
  for (let i = 0; i < POLLS; i++) h.fn.poll();
}

describe('fault cc-csts-not-cleared', () => {
  it('off: SHN cleared with EN still 1 re-enables; CSTS is RDY alone', () => {
    const h = shutDown([]);
    writeCc(h, 1);
    expect(h.csts).toBe(RDY);
  });

  it('on: SHN cleared with EN still 1 is no EN edge; RDY never comes and SHST stays', () => {
    const h = shutDown([FAULT]);
    writeCc(h, 1);
    expect(h.csts).toBe(SHUTDOWN_COMPLETE);
    expect(h.fn.state).toBe('shutdown');
  });

  it('off: EN 0 then EN 1 after the shutdown gives CSTS = RDY alone', () => {
    const h = shutDown([]);
    writeCc(h, 0);
    expect(h.csts).toBe(0);
    writeCc(h, 1);
    expect(h.csts).toBe(RDY);
  });

  it('on: EN 0 then EN 1 after the shutdown gives CSTS = RDY with a stale SHST = 10b', () => {
    const h = shutDown([FAULT]);
    writeCc(h, 0);
    expect(h.csts).toBe(SHUTDOWN_COMPLETE);
    writeCc(h, 1);
    expect(h.csts).toBe(RDY | SHUTDOWN_COMPLETE);
  });
});
