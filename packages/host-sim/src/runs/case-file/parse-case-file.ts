/**
 * Reading case files. Parsing is strict (case-schema.ts): an unknown or misspelled key
 * anywhere, a number where a hex string is wanted, or a value out of range is a {@link ShapeError}
 * naming its path, so `epfsim replay` exits 2 with one line. Version 1 files are migrated to
 * version 2: the fixed bring-up becomes enable and create steps, and each command a submit
 * followed by a wait for it.
 */
import { PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import {
  CASE_FILE_VERSION,
  type CaseBytes,
  type CaseCc,
  type CaseCommand,
  type CaseCommandExpect,
  type CaseDataCheck,
  type CaseFile,
  type CaseGrant,
  type CaseInterruptExpect,
  type CaseInterrupts,
  type CaseMemory,
  type CaseRange,
  type CaseRegister,
  type CaseStep,
  type CaseStepExpect,
  caseBytesSize,
} from './case-file.js';
import { CASE_V1_SHAPE, CASE_V2_SHAPE } from './case-schema.js';
import { readInteger, ShapeError, validate } from './json-shape.js';

type Json = Record<string, unknown>;

/** CDW10..CDW15. */
const COMMAND_DWORDS = 6;
/** AQA.ASQS/ACQS are 12 bits, 0's based (Q-2). */
const ADMIN_MAX_ENTRIES = 4096;

/**
 * Validates a parsed case file (version 1 or 2) and returns it as version 2. Throws a
 * {@link ShapeError} naming the path of the first problem.
 */
export function parseCaseFile(data: unknown, source = 'case'): CaseFile {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new ShapeError(source, 'must be an object');
  const version = (data as Json).version;
  if (version === 1) {
    validate(CASE_V1_SHAPE, data, source);
    return migrateV1(data as Json, source);
  }
  if (version !== CASE_FILE_VERSION) {
    throw new ShapeError(
      `${source}.version`,
      `must be 1 or ${CASE_FILE_VERSION} (this epfsim reads both), got ${JSON.stringify(version)}`,
    );
  }
  validate(CASE_V2_SHAPE, data, source);
  const c = data as Json;
  const steps = (c.steps as Json[]).map((s, i) => step(s, `${source}.steps[${i}]`));
  checkIds(steps, source);
  return {
    version: CASE_FILE_VERSION,
    description: (c.description as string | undefined) ?? '',
    profile: c.profile as CaseFile['profile'],
    controller: (c.controller as Json | undefined) ?? {},
    inject: (c.inject as string[] | undefined) ?? [],
    ...(c.seed === undefined ? {} : { seed: c.seed as number }),
    interrupts: (c.interrupts as CaseInterrupts | undefined) ?? 'auto',
    memory: ((c.memory as Json[] | undefined) ?? []).map((m, i) => memory(m, `${source}.memory[${i}]`)),
    steps,
  };
}

/** Command ids are unique, and every `wait.for` names one that is submitted before it. */
function checkIds(steps: readonly CaseStep[], source: string): void {
  const ids = new Set<string>();
  steps.forEach((s, i) => {
    const named: (string | undefined)[] = s.do === 'submit' ? s.commands.map((c) => c.id) : 'id' in s ? [s.id] : [];
    for (const id of named) {
      if (id === undefined) continue;
      if (ids.has(id)) throw new ShapeError(`${source}.steps[${i}]`, `command id "${id}" is used twice`);
      ids.add(id);
    }
    if (s.do === 'wait') {
      for (const id of s.for ?? []) {
        if (!ids.has(id)) throw new ShapeError(`${source}.steps[${i}].for`, `no command "${id}" before this step`);
      }
    }
  });
}

// ---- version 2 ----

function address(v: unknown): bigint {
  return BigInt(v as string);
}

function hexBytes(v: unknown): Uint8Array {
  return Uint8Array.from(Buffer.from(v as string, 'hex'));
}

function rangeEndOk(addr: bigint, size: number, at: string): void {
  if (addr + BigInt(size) > PCI_ADDR_LIMIT) throw new ShapeError(at, 'the range wraps past 2^64');
}

/** `bytes`, or `fill` over `size` bytes. */
function content(j: Json, size: number | undefined, at: string): CaseBytes | undefined {
  if (j.bytes !== undefined && j.fill !== undefined) throw new ShapeError(at, 'give bytes or fill, not both');
  if (j.bytes !== undefined) return { kind: 'bytes', bytes: hexBytes(j.bytes) };
  if (j.fill === undefined) return undefined;
  const f = j.fill as Json;
  if (size === undefined) throw new ShapeError(`${at}.size`, 'is required with fill');
  if ((f.byte === undefined) === (f.pattern === undefined))
    throw new ShapeError(`${at}.fill`, 'give exactly one of byte and pattern');
  if (f.byte !== undefined) {
    if (f.offset !== undefined) throw new ShapeError(`${at}.fill.offset`, 'goes with pattern only');
    return { kind: 'byte', value: readInteger(f.byte), size };
  }
  return { kind: 'pattern', seed: readInteger(f.pattern), offset: (f.offset as number | undefined) ?? 0, size };
}

function memory(j: Json, at: string): CaseMemory {
  const addr = address(j.addr);
  const size = j.size as number;
  rangeEndOk(addr, size, at);
  const c = content(j, size, at);
  if (c !== undefined && caseBytesSize(c) > size)
    throw new ShapeError(`${at}.bytes`, `${caseBytesSize(c)} bytes do not fit in size ${size}`);
  return {
    addr,
    size,
    ...(c === undefined ? {} : { content: c }),
    ...(j.grant === undefined ? {} : { grant: j.grant as NonNullable<CaseMemory['grant']> }),
  };
}

function range(j: Json, at: string): CaseRange {
  const addr = address(j.addr);
  const size = j.size as number;
  rangeEndOk(addr, size, at);
  return { addr, size };
}

function grant(j: Json, at: string): CaseGrant {
  return { ...range(j, at), direction: j.direction as CaseGrant['direction'] };
}

function dataCheck(j: Json, at: string): CaseDataCheck {
  const addr = address(j.addr);
  if (j.bytes !== undefined && j.size !== undefined) throw new ShapeError(`${at}.size`, 'goes with fill, not bytes');
  const expected = content(j, j.size as number | undefined, at);
  if (expected === undefined) throw new ShapeError(at, 'give bytes, or size with fill');
  rangeEndOk(addr, caseBytesSize(expected), at);
  return { addr, expected };
}

function list<T>(v: unknown, f: (j: Json, at: string) => T, at: string): T[] {
  return Array.isArray(v) ? v.map((x, i) => f(x as Json, `${at}[${i}]`)) : [f(v as Json, at)];
}

function commandExpect(j: Json, at: string): CaseCommandExpect {
  const status =
    j.status === undefined ? undefined : typeof j.status === 'string' ? [j.status] : (j.status as string[]);
  const e = j.event as Json | undefined;
  return {
    ...(status === undefined ? {} : { status }),
    ...(j.dnr === undefined ? {} : { dnr: j.dnr as boolean }),
    ...(j.more === undefined ? {} : { more: j.more as boolean }),
    ...(j.crd === undefined ? {} : { crd: j.crd as number }),
    ...(j.dw0 === undefined ? {} : { dw0: readInteger(j.dw0) }),
    ...(j.dw1 === undefined ? {} : { dw1: readInteger(j.dw1) }),
    ...(j.sqhd === undefined ? {} : { sqhd: readInteger(j.sqhd) }),
    ...(j.sqid === undefined ? {} : { sqid: readInteger(j.sqid) }),
    ...(e === undefined
      ? {}
      : { event: { type: e.type as number, info: readInteger(e.info), lid: readInteger(e.lid) } }),
    ...(j.completes === undefined ? {} : { completes: j.completes as 'yes' | 'no' | 'any' }),
    ...(j.data === undefined ? {} : { data: list(j.data, dataCheck, `${at}.data`) }),
    ...(j.faults === undefined ? {} : { faults: (j.faults as Json[]).map((f, i) => range(f, `${at}.faults[${i}]`)) }),
  };
}

function stepExpect(j: Json | undefined, at: string): CaseStepExpect | undefined {
  if (j === undefined) return undefined;
  const interrupts = (j.interrupts as Json[] | undefined)?.map((x, i): CaseInterruptExpect => {
    const where = `${at}.interrupts[${i}]`;
    const count = x.count as number | undefined;
    if (count !== undefined && (x.min !== undefined || x.max !== undefined))
      throw new ShapeError(where, 'give count, or min and/or max');
    const min = count ?? (x.min as number | undefined) ?? 0;
    const max = count ?? (x.max as number | undefined) ?? Number.MAX_SAFE_INTEGER;
    if (min > max) throw new ShapeError(where, `min ${min} is above max ${max}`);
    return { vector: x.vector as number, min, max };
  });
  return {
    ...(j.csts === undefined ? {} : { csts: j.csts as CaseStepExpect['csts'] & object }),
    ...(interrupts === undefined ? {} : { interrupts }),
  };
}

function command(j: Json, at: string): CaseCommand {
  if (j.sgl1 !== undefined && (j.prp1 !== undefined || j.prp2 !== undefined))
    throw new ShapeError(`${at}.sgl1`, 'give sgl1, or prp1/prp2, not both');
  const dwords = ((j.cdw as unknown[] | undefined) ?? []).map(readInteger);
  const cdw = Array.from({ length: COMMAND_DWORDS }, (_, i) => dwords[i] ?? 0) as unknown as CaseCommand['cdw'];
  const s = j.sgl1 as Json | undefined;
  const expect = j.expect === undefined ? undefined : commandExpect(j.expect as Json, `${at}.expect`);
  return {
    ...(j.id === undefined ? {} : { id: j.id as string }),
    opcode: readInteger(j.opcode),
    nsid: j.nsid === undefined ? 0 : readInteger(j.nsid),
    psdt: (j.psdt as number | undefined) ?? 0,
    fuse: (j.fuse as number | undefined) ?? 0,
    ...(j.cid === undefined ? {} : { cid: readInteger(j.cid) }),
    prp1: j.prp1 === undefined ? 0n : address(j.prp1),
    prp2: j.prp2 === undefined ? 0n : address(j.prp2),
    ...(s === undefined
      ? {}
      : {
          sgl1: {
            addr: address(s.addr),
            length: readInteger(s.length),
            type: s.type as number,
            subtype: (s.subtype as number | undefined) ?? 0,
          },
        }),
    mptr: j.mptr === undefined ? 0n : address(j.mptr),
    cdw2: j.cdw2 === undefined ? 0 : readInteger(j.cdw2),
    cdw3: j.cdw3 === undefined ? 0 : readInteger(j.cdw3),
    cdw,
    ...(j.grants === undefined ? {} : { grants: (j.grants as Json[]).map((g, i) => grant(g, `${at}.grants[${i}]`)) }),
    ...(expect === undefined ? {} : { expect }),
  };
}

function step(j: Json, at: string): CaseStep {
  const expect = stepExpect(j.expect as Json | undefined, `${at}.expect`);
  const withExpect = <T extends object>(s: T) => (expect === undefined ? s : { ...s, expect });
  const cmdExpect = j.expect === undefined ? {} : { expect: commandExpect(j.expect as Json, `${at}.expect`) };
  const id = j.id === undefined ? {} : { id: j.id as string };
  const qid = j.qid as number;
  switch (j.do as CaseStep['do']) {
    case 'enable': {
      const a = j.admin as Json;
      return withExpect({
        do: 'enable' as const,
        admin: {
          sqAddr: address(a.sqAddr),
          cqAddr: address(a.cqAddr),
          sqSize: a.sqSize as number,
          cqSize: a.cqSize as number,
        },
        ...(j.cc === undefined ? {} : { cc: j.cc as CaseCc }),
      });
    }
    case 'disable':
      return withExpect({ do: 'disable' as const });
    case 'shutdown':
      return withExpect({ do: 'shutdown' as const, type: j.type as 'normal' | 'abrupt' });
    case 'write-register':
      return withExpect({
        do: 'write-register' as const,
        register: j.register as CaseRegister,
        value: BigInt(j.value as string | number),
      });
    case 'doorbell':
      return withExpect({ do: 'doorbell' as const, queue: j.queue as 'sq' | 'cq', qid, value: readInteger(j.value) });
    case 'create-cq':
      return {
        do: 'create-cq',
        ...id,
        qid,
        addr: address(j.addr),
        size: j.size as number,
        ...(j.ien === undefined ? {} : { ien: j.ien as boolean }),
        ...(j.iv === undefined ? {} : { iv: readInteger(j.iv) }),
        pc: (j.pc as boolean | undefined) ?? true,
        ...cmdExpect,
      };
    case 'create-sq':
      return {
        do: 'create-sq',
        ...id,
        qid,
        addr: address(j.addr),
        size: j.size as number,
        cqid: readInteger(j.cqid),
        qprio: (j.qprio as number | undefined) ?? 0,
        pc: (j.pc as boolean | undefined) ?? true,
        ...cmdExpect,
      };
    case 'delete-sq':
    case 'delete-cq':
      return { do: j.do as 'delete-sq' | 'delete-cq', ...id, qid, ...cmdExpect };
    case 'submit':
      return withExpect({
        do: 'submit' as const,
        qid,
        commands: (j.commands as Json[]).map((c, i) => command(c, `${at}.commands[${i}]`)),
        doorbell: (j.doorbell as boolean | undefined) ?? true,
      });
    case 'ring':
      return withExpect({ do: 'ring' as const, qid });
    case 'cq-head':
      return withExpect({ do: 'cq-head' as const, qid, hold: j.hold as boolean });
    case 'wait':
      return withExpect({
        do: 'wait' as const,
        ...(j.ms === undefined ? {} : { ms: j.ms as number }),
        ...(j.for === undefined ? {} : { for: j.for as string[] }),
      });
    case 'mask-vector':
      return withExpect({ do: 'mask-vector' as const, vector: j.vector as number, masked: j.masked as boolean });
    case 'check':
      return { do: 'check', expect: expect ?? {} };
    case 'write-memory': {
      const written = dataCheck(j, at);
      return { do: 'write-memory', addr: written.addr, content: written.expected };
    }
  }
}

// ---- version 1 ----

function migrateV1(c: Json, source: string): CaseFile {
  const admin = c.adminQueue as Json;
  if ((admin.depth as number) > ADMIN_MAX_ENTRIES)
    throw new ShapeError(
      `${source}.adminQueue.depth`,
      `at most ${ADMIN_MAX_ENTRIES} entries (AQA is 12 bits, 0's based)`,
    );
  const ioQueues = (c.ioQueues as Json[] | undefined) ?? [];
  const qids = new Set<number>();
  ioQueues.forEach((q, i) => {
    const qid = q.qid as number;
    if (qids.has(qid)) throw new ShapeError(`${source}.ioQueues[${i}].qid`, `${qid} appears twice`);
    qids.add(qid);
  });
  const steps: CaseStep[] = [
    {
      do: 'enable',
      admin: {
        sqAddr: address(admin.sqAddr),
        cqAddr: address(admin.cqAddr),
        sqSize: admin.depth as number,
        cqSize: admin.depth as number,
      },
      expect: { csts: { RDY: 1, CFS: 0 } },
    },
  ];
  const ok = { status: ['0/00h'] };
  for (const q of ioQueues) {
    const qid = q.qid as number;
    const depth = q.depth as number;
    steps.push({ do: 'create-cq', qid, addr: address(q.cqAddr), size: depth, pc: true, expect: ok });
    steps.push({
      do: 'create-sq',
      qid,
      addr: address(q.sqAddr),
      size: depth,
      cqid: qid,
      qprio: 0,
      pc: true,
      expect: ok,
    });
  }
  (c.commands as Json[]).forEach((j, i) => {
    const at = `${source}.commands[${i}]`;
    const qid = j.qid as number;
    if (qid !== 0 && !qids.has(qid)) throw new ShapeError(`${at}.qid`, `no I/O queue ${qid} in ioQueues`);
    const e = j.expect as Json | undefined;
    const id = `command-${i}`;
    const cmd = command(
      {
        ...j,
        id,
        qid: undefined,
        expect:
          e === undefined ? undefined : { ...e, data: e.data === undefined ? undefined : list(e.data, (d) => d, '') },
      } as Json,
      at,
    );
    steps.push({ do: 'submit', qid, commands: [cmd], doorbell: true });
    steps.push({ do: 'wait', for: [id] });
  });
  return {
    version: CASE_FILE_VERSION,
    description: (c.description as string | undefined) ?? '',
    profile: c.profile as CaseFile['profile'],
    controller: (c.controller as Json | undefined) ?? {},
    inject: [],
    ...(c.seed === undefined ? {} : { seed: c.seed as number }),
    interrupts: 'auto',
    memory: ((c.memory as Json[] | undefined) ?? []).map((m, i) => memory(m, `${source}.memory[${i}]`)),
    steps,
  };
}
