/**
 * Named, off-by-default faults of the NVMe function: each puts back one bug of the Linux NVMe PCI
 * endpoint target (drivers/nvme/target/pci-epf.c) that an upstream change fixed, or one behaviour
 * of that driver its code shows and the specification forbids, at the place in this controller
 * where the bug lived. A fault changes only what a host can observe (a CQE field or status, the
 * number of CQEs, CSTS, an interrupt, an asynchronous event, data, an access outside the host's
 * grants), deterministically, so a host-side fuzz campaign can be shown to find it.
 *
 * The configuration names faults ({@link NvmeFunctionConfig.faults}); the controller reads them
 * once into {@link FunctionFaultFlags}, and each fault is one guarded branch on a boolean field.
 * docs/faults.md gives the scenario of each; a test keeps it, this table and the configuration
 * check in step.
 */
import { EPC_FAULTS, type EpcFaultName, type FaultDescription, type FaultFlags, faultFlags } from '@epfsim/epc-core';

/** Where the Linux function lives, for the `where` of each entry. */
const PCI_EPF = 'drivers/nvme/target/pci-epf.c';

/** The NVMe function's faults. */
export const FUNCTION_FAULTS = [
  {
    name: 'double-completion',
    title: 'a command rejected before execution is completed twice',
    upstream: {
      title: 'nvmet: pci-epf: Do not complete commands twice if nvmet_req_init() fails',
      commit: null,
      where: `${PCI_EPF}, nvmet_pci_epf_exec_iod_work(); 6.16 stable (2025-07)`,
    },
    hostSees:
      'a command failing the checks made before execution (unsupported opcode, invalid NSID, FUSE or PSDT) ' +
      'gets its error CQE, then a second CQE with the same SQID, CID and status',
    correct: 'exactly one CQE per command',
  },
  {
    name: 'unchecked-entry-sizes',
    title: 'CC.IOSQES and CC.IOCQES are trusted at enable and at queue creation',
    upstream: {
      title: 'nvmet: pci-epf: fix heap overflow for invalid I/O SQES/CQES from the host',
      commit: null,
      where: `${PCI_EPF}, nvmet_pci_epf_enable_ctrl() and the queue create ops; list patch (2026-04)`,
    },
    hostSees:
      'any IOSQES/IOCQES gives CSTS.RDY and Create I/O SQ/CQ succeeds; SQEs are then fetched with a stride of ' +
      '2^IOSQES and CQEs written 2^IOCQES bytes apart and long: bytes past 16 are stale controller memory ' +
      '(the data bounce buffer), entries shorter than 16 bytes lose their status and phase',
    correct:
      'CSTS.CFS at enable for IOSQES other than 0 or 6 and IOCQES other than 0 or 4; Create I/O SQ/CQ with ' +
      'IOSQES/IOCQES not 6/4 fails with 1/02h',
  },
  {
    name: 'cq-irq-state-survives-delete',
    title: "a deleted CQ's interrupt state is kept for its queue id",
    upstream: {
      title: 'nvmet: pci-epf: clear completion queue IRQ flag on delete',
      commit: '85adf2094abb',
      where: `${PCI_EPF}, nvmet_pci_epf_delete_cq(); stable`,
    },
    hostSees:
      'a CQ re-created with IEN=0 on the queue id of a deleted (or reset) interrupt-driven CQ raises an ' +
      'interrupt on the old vector for each completion',
    correct: 'a CQ created with IEN=0 never raises an interrupt',
  },
  {
    name: 'cc-csts-not-cleared',
    title: 'CC.EN is not cleared on shutdown and CSTS keeps stale bits',
    upstream: {
      title:
        'nvmet: pci-epf: clear CC and CSTS on shutdown, link loss and enable failure (title unverified); ' +
        'nvmet: pci-epf: Correctly initialize CSTS when enabling the controller',
      commit: 'f8e01fa93f3e',
      where: `${PCI_EPF}, nvmet_pci_epf_poll_cc(), _enable_ctrl(), _disable_ctrl(); 6.15 and 6.14-rc4`,
    },
    hostSees:
      'after a shutdown notification with CC.EN still 1, writing SHN=0 with EN=1 never brings RDY back; ' +
      'SHST=10b is never cleared, so after EN=0 then EN=1 CSTS reads RDY with SHST=10b',
    correct: 'after a shutdown, a re-enable either way gives CSTS equal to RDY alone',
  },
  {
    name: 'short-sgl-segment-accepted',
    title: 'an SGL segment descriptor whose length is 0 or not a multiple of 16 is walked',
    upstream: {
      title: 'nvmet: pci-epf: reject too-short SGL segments (title unverified)',
      commit: null,
      where: `${PCI_EPF}, nvmet_pci_epf_iod_parse_sgl_segments(); list patch (2026)`,
    },
    hostSees:
      'a Segment or Last Segment of length 16k+r is walked as k descriptors (a command succeeds where it must ' +
      'fail); a length of 0 is an empty segment (0/0Fh Data SGL Length Invalid instead of 0/0Dh)',
    correct: '0/0Dh Invalid SGL Segment Descriptor',
  },
  {
    name: 'cq-kept-after-failed-create',
    title: 'a Create I/O CQ failing after the queue was set up leaves its queue id taken',
    upstream: {
      title: 'nvmet: pci-epf: put CQ ref on create_cq mapping failure',
      commit: null,
      where: `${PCI_EPF}, nvmet_pci_epf_create_cq(); list patch (2026)`,
    },
    hostSees:
      'after a Create I/O CQ that failed its interrupt vector (1/08h) or PC (0/02h) check, a Create I/O CQ of ' +
      'that queue id gets 1/01h and a Delete I/O CQ of it succeeds, until the function is recreated',
    correct: 'a failed create leaves no trace: the queue id can be created and cannot be deleted',
  },
  {
    name: 'cqe-fields-uninitialized',
    title: 'a command that fails before execution gets stale SQHD, SQID and CID',
    upstream: {
      title: 'nvmet: pci-epf: Always fully initialize completion entries',
      commit: 'ffe0398c7d6a',
      where: `${PCI_EPF}, nvmet_pci_epf_cq_work(); 6.15, stable`,
    },
    hostSees:
      'the CQE of a command failing before execution (unsupported opcode, invalid NSID, FUSE or PSDT, a bad ' +
      'PRP or SGL, a transfer above MDTS) carries the SQHD, SQID and CID of the previous CQE the function posted',
    correct: "every CQE carries its own command's CID, its SQ's id and that SQ's head",
  },
  {
    name: 'qid-beyond-endpoint-queues',
    title: 'queue ids are not checked against the queues allocated',
    upstream: {
      title: 'nvmet-pci: validate queue IDs against endpoint queues',
      commit: null,
      where: `${PCI_EPF}, create_cq/create_sq ops; list patch (2026-07)`,
    },
    hostSees:
      'after Set Features Number of Queues allocated fewer queues, Create I/O CQ/SQ with a queue id above the ' +
      "allocation succeeds, up to the function's own queue count (1/01h beyond it)",
    correct: '1/01h Invalid Queue Identifier for a queue id above NCQA + 1 (CQ) or NSQA + 1 (SQ)',
  },
  {
    name: 'cq-full-check-misses-wrap',
    title: 'the CQ full test is head == tail + 1, without the wrap',
    upstream: {
      title: 'none: the full test of the Linux function as its code reads',
      commit: null,
      where: `${PCI_EPF}, nvmet_pci_epf_cq_work()`,
    },
    hostSees:
      'with tail = size - 1 and head = 0 the function posts into the full CQ: N entries in an N-entry ring, ' +
      'then it overwrites the unconsumed entry at the head',
    correct: 'the CQ is full when (tail + 1) mod size equals head; completions wait for the head doorbell',
  },
  {
    name: 'doorbell-values-unchecked',
    title: 'doorbell values are used without validation',
    upstream: {
      title: 'none: the Linux function does not validate doorbell values',
      commit: null,
      where: `${PCI_EPF}, nvmet_pci_epf_process_sq() and nvmet_pci_epf_cq_work()`,
    },
    hostSees:
      'an SQ tail at or beyond the size (taken modulo the size) or past the head, and a CQ head beyond the ' +
      'size or past the tail, are used as written, with no asynchronous event; a doorbell of a queue that ' +
      'does not exist is ignored silently',
    correct:
      'the write is ignored and an Error asynchronous event is posted: info 01h Invalid Doorbell Write Value ' +
      '(the SQ is then no longer fetched), or 00h for a queue that does not exist',
  },
] as const satisfies readonly FaultDescription[];

/** The name of an NVMe function fault. */
export type FunctionFaultName = (typeof FUNCTION_FAULTS)[number]['name'];

/** Every NVMe function fault name, in catalogue order. */
export const FUNCTION_FAULT_NAMES: readonly FunctionFaultName[] = FUNCTION_FAULTS.map((f) => f.name);

/** One boolean per function fault (`doubleCompletion`, …), read once when the function is created. */
export type FunctionFaultFlags = FaultFlags<FunctionFaultName>;

/** Flags for `names` (already checked by resolveConfig). */
export function functionFaultFlags(names: readonly FunctionFaultName[]): FunctionFaultFlags {
  return faultFlags(FUNCTION_FAULTS, names);
}

/** Which part of the simulator a fault lives in, so a front end can hand each to the right factory. */
export type FaultLayer = 'nvme-epf' | 'epc-core';

/** Any fault name, of the function or of the endpoint controller. */
export type FaultName = FunctionFaultName | EpcFaultName;

/** A catalogue entry with its layer. */
export interface LayeredFault extends FaultDescription<FaultName> {
  readonly layer: FaultLayer;
}

/** Every fault users can inject: the function's, then the endpoint controller's. */
export const FAULT_CATALOGUE: readonly LayeredFault[] = Object.freeze([
  ...FUNCTION_FAULTS.map((f): LayeredFault => ({ ...f, layer: 'nvme-epf' })),
  ...EPC_FAULTS.map((f): LayeredFault => ({ ...f, layer: 'epc-core' })),
]);

/** `names` split by layer, and the names no catalogue knows. */
export interface SplitFaults {
  readonly function: FunctionFaultName[];
  readonly epc: EpcFaultName[];
  readonly unknown: string[];
}

/** Splits a mixed list of fault names (an `--inject` list) between the function and the endpoint controller. */
export function splitFaults(names: readonly string[]): SplitFaults {
  const out: SplitFaults = { function: [], epc: [], unknown: [] };
  for (const name of names) {
    const entry = FAULT_CATALOGUE.find((f) => f.name === name);
    if (entry === undefined) out.unknown.push(name);
    else if (entry.layer === 'epc-core') out.epc.push(entry.name as EpcFaultName);
    else out.function.push(entry.name as FunctionFaultName);
  }
  return out;
}
