/**
 * Case files: a failing fuzz case or a hand-written scenario as a versioned JSON document
 * (DESIGN.md "Case files"). Version 2 is a program of host actions: register writes, doorbell
 * writes of any value, queue creation and deletion with every field, batches of commands before
 * one doorbell, delayed head doorbells, waits, resets, shutdowns and re-enables, each with what
 * to expect: whole CQEs, no completion at all, CSTS, async events, interrupts per vector, data.
 * Addresses are hex strings so 64-bit values survive JSON; data is bytes, a fill, or a slice of
 * a seeded pattern. Version 1 files (a fixed bring-up and one command at a time) are migrated to
 * version 2 when read. `case-schema.ts` holds the structure both the parser and the published
 * JSON Schema come from; `replay-case.ts` runs a case.
 */
import type { Sqe } from '@epfsim/nvme-spec-types';

export const CASE_FILE_KIND = 'epfsim-case';
export const CASE_FILE_VERSION = 2;
/** Versions the parser reads (older ones are migrated). */
export const CASE_FILE_VERSIONS = [1, 2] as const;

/** Bytes of a region or a data check: literal bytes, one repeated byte, or a slice of a seeded pattern. */
export type CaseBytes =
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'byte'; readonly value: number; readonly size: number }
  | { readonly kind: 'pattern'; readonly seed: number; readonly offset: number; readonly size: number };

/** Host RAM the case places before its first step. */
export interface CaseMemory {
  readonly addr: bigint;
  /** RAM size to add at `addr` (the function may touch only RAM). */
  readonly size: number;
  /** What it holds from `addr` on; the rest reads as zero. */
  readonly content?: CaseBytes;
  /** What the function may do here, as the host IOMMU grants it. Default: read and write. */
  readonly grant?: 'read' | 'write' | 'read-write' | 'none';
}

/** A range of host addresses. */
export interface CaseRange {
  readonly addr: bigint;
  readonly size: number;
}

/** A range the device may access in one direction while one command runs (an IOMMU mapping). */
export interface CaseGrant extends CaseRange {
  readonly direction: 'read' | 'write';
}

/** After a command completes, host memory at `addr` holds these bytes. */
export interface CaseDataCheck {
  readonly addr: bigint;
  readonly expected: CaseBytes;
}

/** An asynchronous event as the AER's completion DW0 carries it. */
export interface CaseEvent {
  readonly type: number;
  readonly info: number;
  readonly lid: number;
}

/** What a command's completion must be. Absent fields are not checked. */
export interface CaseCommandExpect {
  /** Accepted statuses, "SCT/SCh" ("0/13h"): where the specification allows several, any of them. */
  readonly status?: readonly string[];
  readonly dnr?: boolean;
  readonly more?: boolean;
  readonly crd?: number;
  readonly dw0?: number;
  readonly dw1?: number;
  readonly sqhd?: number;
  readonly sqid?: number;
  /** Sugar for an AER's DW0. */
  readonly event?: CaseEvent;
  /** 'yes' (default): exactly one CQE; 'no': never a CQE; 'any': at most one. */
  readonly completes?: 'yes' | 'no' | 'any';
  /** Host memory after completion (a scattered read buffer has several checks). */
  readonly data?: readonly CaseDataCheck[];
  /** Device accesses that may fail while this command runs; any other refused access fails the case. */
  readonly faults?: readonly CaseRange[];
}

/** One SGL descriptor written into SGL1 (instead of PRP1/PRP2). */
export interface CaseSgl1 {
  readonly addr: bigint;
  readonly length: number;
  readonly type: number;
  readonly subtype: number;
}

export interface CaseCommand {
  /** A name for reports and for `wait.for`. */
  readonly id?: string;
  readonly opcode: number;
  readonly nsid: number;
  readonly psdt: number;
  readonly fuse: number;
  /** A CID chosen by the case; otherwise the replay allocates one. */
  readonly cid?: number;
  readonly prp1: bigint;
  readonly prp2: bigint;
  readonly sgl1?: CaseSgl1;
  readonly mptr: bigint;
  readonly cdw2: number;
  readonly cdw3: number;
  /** CDW10..CDW15. */
  readonly cdw: readonly [number, number, number, number, number, number];
  /** Ranges granted for this command's lifetime only, on top of the memory regions' own grants. */
  readonly grants?: readonly CaseGrant[];
  readonly expect?: CaseCommandExpect;
}

/** CC fields an `enable` or a `write-register` sets (NVMe Base 1.4 §3.1.5). */
export interface CaseCc {
  readonly EN?: number;
  readonly CSS?: number;
  readonly MPS?: number;
  readonly AMS?: number;
  readonly SHN?: number;
  readonly IOSQES?: number;
  readonly IOCQES?: number;
}

/** CSTS fields a step expects (RDY, CFS, SHST). */
export interface CaseCsts {
  readonly RDY?: number;
  readonly CFS?: number;
  readonly SHST?: number;
}

/** Interrupts on one vector during a step: exactly `count`, or between `min` and `max`. */
export interface CaseInterruptExpect {
  readonly vector: number;
  readonly min: number;
  readonly max: number;
}

/** What must hold after a step (when the controller has run and the host has reaped). */
export interface CaseStepExpect {
  readonly csts?: CaseCsts;
  readonly interrupts?: readonly CaseInterruptExpect[];
}

/** Registers a case may write raw. */
export const CASE_REGISTERS = ['CC', 'AQA', 'ASQ', 'ACQ', 'INTMS', 'INTMC', 'NSSR'] as const;
export type CaseRegister = (typeof CASE_REGISTERS)[number];

export type CaseStep =
  | {
      /** AQA/ASQ/ACQ for the admin rings, then CC with EN = 1; waits for RDY or CFS. */
      readonly do: 'enable';
      readonly admin: {
        readonly sqAddr: bigint;
        readonly cqAddr: bigint;
        readonly sqSize: number;
        readonly cqSize: number;
      };
      readonly cc?: CaseCc;
      readonly expect?: CaseStepExpect;
    }
  | { readonly do: 'disable'; readonly expect?: CaseStepExpect }
  | { readonly do: 'shutdown'; readonly type: 'normal' | 'abrupt'; readonly expect?: CaseStepExpect }
  | {
      readonly do: 'write-register';
      readonly register: CaseRegister;
      readonly value: bigint;
      readonly expect?: CaseStepExpect;
    }
  | {
      /** A raw doorbell write of any value, to any queue id. */
      readonly do: 'doorbell';
      readonly queue: 'sq' | 'cq';
      readonly qid: number;
      readonly value: number;
      readonly expect?: CaseStepExpect;
    }
  | {
      readonly do: 'create-cq';
      readonly id?: string;
      readonly qid: number;
      readonly addr: bigint;
      readonly size: number;
      /** Interrupts Enabled; default: whether the host takes interrupts at all. */
      readonly ien?: boolean;
      /** Interrupt Vector; default: Linux's choice (the qid, shared round robin when vectors are fewer). */
      readonly iv?: number;
      readonly pc: boolean;
      readonly expect?: CaseCommandExpect;
    }
  | {
      readonly do: 'create-sq';
      readonly id?: string;
      readonly qid: number;
      readonly addr: bigint;
      readonly size: number;
      readonly cqid: number;
      readonly qprio: number;
      readonly pc: boolean;
      readonly expect?: CaseCommandExpect;
    }
  | {
      readonly do: 'delete-sq' | 'delete-cq';
      readonly id?: string;
      readonly qid: number;
      readonly expect?: CaseCommandExpect;
    }
  | {
      /** Commands written into the SQ one after another, then (unless `doorbell` is false) one tail doorbell. */
      readonly do: 'submit';
      readonly qid: number;
      readonly commands: readonly CaseCommand[];
      readonly doorbell: boolean;
      readonly expect?: CaseStepExpect;
    }
  | { readonly do: 'ring'; readonly qid: number; readonly expect?: CaseStepExpect }
  | {
      /** From now on the host consumes CQ entries without writing the head doorbell (`hold: true`), or writes it now. */
      readonly do: 'cq-head';
      readonly qid: number;
      readonly hold: boolean;
      readonly expect?: CaseStepExpect;
    }
  | {
      /** Lets the controller run `ms` of simulated time, or until the named commands complete. */
      readonly do: 'wait';
      readonly ms?: number;
      readonly for?: readonly string[];
      readonly expect?: CaseStepExpect;
    }
  | { readonly do: 'mask-vector'; readonly vector: number; readonly masked: boolean; readonly expect?: CaseStepExpect }
  | {
      /** The host CPU writes its own memory (a payload, a PRP list, an SGL segment) before it submits. */
      readonly do: 'write-memory';
      readonly addr: bigint;
      readonly content: CaseBytes;
    }
  | { readonly do: 'check'; readonly expect: CaseStepExpect };

export type CaseStepKind = CaseStep['do'];

/** How the host takes interrupts: as the driver does (MSI-X, else MSI, else INTx), or one mode, or none. */
export type CaseInterrupts = 'auto' | 'msix' | 'msi' | 'intx' | 'none';

export interface CaseFile {
  readonly version: number;
  readonly description: string;
  /** A built-in profile name or an inline profile object (validated like a profile file). */
  readonly profile: string | Record<string, unknown>;
  /** Controller configuration overrides (strategy, namespaces, options, ...). */
  readonly controller: Record<string, unknown>;
  /** Named faults injected into the function and the EPC (docs/faults.md). */
  readonly inject: readonly string[];
  /** The seed of the fuzz case that produced it, when it came from `epfsim fuzz`. */
  readonly seed?: number;
  readonly interrupts: CaseInterrupts;
  readonly memory: readonly CaseMemory[];
  readonly steps: readonly CaseStep[];
}

/** The SQE fields a case command gives (the CID is the replay's unless the case chose one). */
export function caseCommandSqe(cmd: CaseCommand): Partial<Sqe> {
  return {
    opcode: cmd.opcode,
    fuse: cmd.fuse,
    psdt: cmd.psdt,
    nsid: cmd.nsid,
    cdw2: cmd.cdw2,
    cdw3: cmd.cdw3,
    mptr: cmd.mptr,
    prp1: cmd.prp1,
    prp2: cmd.prp2,
    cdw10: cmd.cdw[0],
    cdw11: cmd.cdw[1],
    cdw12: cmd.cdw[2],
    cdw13: cmd.cdw[3],
    cdw14: cmd.cdw[4],
    cdw15: cmd.cdw[5],
  };
}

/** The size in bytes a {@link CaseBytes} covers. */
export function caseBytesSize(b: CaseBytes): number {
  return b.kind === 'bytes' ? b.bytes.length : b.size;
}

/** Every command a case submits, in order, with its queue. */
export function caseCommands(c: CaseFile): { readonly qid: number; readonly command: CaseCommand }[] {
  return c.steps.flatMap((s) => (s.do === 'submit' ? s.commands.map((command) => ({ qid: s.qid, command })) : []));
}
