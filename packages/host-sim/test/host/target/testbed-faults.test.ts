/** createTestbed({ faults }): each named fault reaches its layer; an unknown name is a HostSimConfigError. */
import { FAULT_CATALOGUE } from '@epfsim/nvme-epf';
import { describe, expect, it } from 'vitest';
import { HostSimConfigError } from '../../../src/host/errors.js';
import { createTestbed } from '../../../src/host/target/epfsim-target.js';
import { driverOn } from '../../support/testbed.js';

/** An admin opcode the function does not implement. */
const UNSUPPORTED_ADMIN_OPCODE = 0x7f;

describe('createTestbed faults', () => {
  it('an unknown fault name is a HostSimConfigError listing the known faults', () => {
    let error: unknown;
    try {
      createTestbed({ faults: ['no-such-fault'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HostSimConfigError);
    expect((error as HostSimConfigError).code).toBe('BAD_OPTION');
    for (const f of FAULT_CATALOGUE) expect((error as Error).message).toContain(f.name);
  });

  it('without faults, an unsupported admin opcode completes once and the EPC flag is off', () => {
    const tb = createTestbed({ profile: 'dwc' });
    const driver = driverOn(tb);
    const before = tb.fn.stats.commandsCompleted;
    driver.admin({ opcode: UNSUPPORTED_ADMIN_OPCODE });
    expect(tb.fn.stats.commandsCompleted - before).toBe(1);
    expect(tb.epc.faults.msixUnmapBeforeFlush).toBe(false);
    tb.close();
  });

  it('a function fault goes to the function and an EPC fault to the EPC', () => {
    const tb = createTestbed({ profile: 'dwc', faults: ['double-completion', 'msix-unmap-before-flush'] });
    expect(tb.epc.faults.msixUnmapBeforeFlush).toBe(true);
    const driver = driverOn(tb);
    const before = tb.fn.stats.commandsCompleted;
    driver.admin({ opcode: UNSUPPORTED_ADMIN_OPCODE });
    driver.pump();
    expect(tb.fn.stats.commandsCompleted - before).toBe(2);
    tb.close();
  });
});
