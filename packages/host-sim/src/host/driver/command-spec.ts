/** A driver {@link CommandSpec} from the SQE fields nvme-spec-types builds (its data pointer is the driver's to place). */
import type { SqeFields } from '@epfsim/nvme-spec-types';
import type { CommandSpec } from './driver-types.js';

export function commandSpec(f: SqeFields): CommandSpec {
  return {
    opcode: f.opcode ?? 0,
    ...(f.nsid === undefined ? {} : { nsid: f.nsid }),
    ...(f.cdw10 === undefined ? {} : { cdw10: f.cdw10 }),
    ...(f.cdw11 === undefined ? {} : { cdw11: f.cdw11 }),
    ...(f.cdw12 === undefined ? {} : { cdw12: f.cdw12 }),
    ...(f.cdw13 === undefined ? {} : { cdw13: f.cdw13 }),
  };
}
