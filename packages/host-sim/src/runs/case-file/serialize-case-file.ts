/**
 * Writing case files: a case as the JSON `epfsim replay` reads back (version 2, addresses as hex
 * strings, data as fills and patterns where the case has them), so a shrunk fuzz failure is a file
 * a user can read and edit.
 */
import {
  CASE_FILE_KIND,
  CASE_FILE_VERSION,
  type CaseBytes,
  type CaseCommand,
  type CaseCommandExpect,
  type CaseFile,
  type CaseRange,
  type CaseStep,
  type CaseStepExpect,
} from './case-file.js';

type Json = Record<string, unknown>;

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

function bytesJson(b: CaseBytes): Json {
  switch (b.kind) {
    case 'bytes':
      return { bytes: Buffer.from(b.bytes).toString('hex') };
    case 'byte':
      return { size: b.size, fill: { byte: b.value } };
    case 'pattern':
      return { size: b.size, fill: { pattern: b.seed, ...(b.offset === 0 ? {} : { offset: b.offset }) } };
  }
}

function rangeJson(r: CaseRange): Json {
  return { addr: hex(r.addr), size: r.size };
}

function commandExpectJson(e: CaseCommandExpect): Json {
  return {
    ...(e.status === undefined ? {} : { status: e.status.length === 1 ? e.status[0] : e.status }),
    ...(e.dnr === undefined ? {} : { dnr: e.dnr }),
    ...(e.more === undefined ? {} : { more: e.more }),
    ...(e.crd === undefined ? {} : { crd: e.crd }),
    ...(e.dw0 === undefined ? {} : { dw0: hex(e.dw0) }),
    ...(e.dw1 === undefined ? {} : { dw1: hex(e.dw1) }),
    ...(e.sqhd === undefined ? {} : { sqhd: e.sqhd }),
    ...(e.sqid === undefined ? {} : { sqid: e.sqid }),
    ...(e.event === undefined ? {} : { event: e.event }),
    ...(e.completes === undefined ? {} : { completes: e.completes }),
    ...(e.data === undefined ? {} : { data: e.data.map((d) => ({ addr: hex(d.addr), ...bytesJson(d.expected) })) }),
    ...(e.faults === undefined ? {} : { faults: e.faults.map(rangeJson) }),
  };
}

function stepExpectJson(e: CaseStepExpect | undefined): Json {
  if (e === undefined) return {};
  return {
    expect: {
      ...(e.csts === undefined ? {} : { csts: e.csts }),
      ...(e.interrupts === undefined
        ? {}
        : {
            interrupts: e.interrupts.map((x) =>
              x.min === x.max
                ? { vector: x.vector, count: x.min }
                : { vector: x.vector, min: x.min, ...(x.max === Number.MAX_SAFE_INTEGER ? {} : { max: x.max }) },
            ),
          }),
    },
  };
}

function commandJson(c: CaseCommand): Json {
  const cdw = [...c.cdw];
  while (cdw.length > 0 && cdw.at(-1) === 0) cdw.pop();
  return {
    ...(c.id === undefined ? {} : { id: c.id }),
    opcode: c.opcode,
    ...(c.nsid === 0 ? {} : { nsid: c.nsid }),
    ...(c.psdt === 0 ? {} : { psdt: c.psdt }),
    ...(c.fuse === 0 ? {} : { fuse: c.fuse }),
    ...(c.cid === undefined ? {} : { cid: c.cid }),
    ...(c.sgl1 !== undefined
      ? { sgl1: { addr: hex(c.sgl1.addr), length: c.sgl1.length, type: c.sgl1.type, subtype: c.sgl1.subtype } }
      : { ...(c.prp1 === 0n ? {} : { prp1: hex(c.prp1) }), ...(c.prp2 === 0n ? {} : { prp2: hex(c.prp2) }) }),
    ...(c.mptr === 0n ? {} : { mptr: hex(c.mptr) }),
    ...(c.cdw2 === 0 ? {} : { cdw2: hex(c.cdw2) }),
    ...(c.cdw3 === 0 ? {} : { cdw3: hex(c.cdw3) }),
    ...(cdw.length === 0 ? {} : { cdw: cdw.map(hex) }),
    ...(c.grants === undefined ? {} : { grants: c.grants.map((g) => ({ ...rangeJson(g), direction: g.direction })) }),
    ...(c.expect === undefined ? {} : { expect: commandExpectJson(c.expect) }),
  };
}

function stepJson(s: CaseStep): Json {
  const cmdExpect = (e: CaseCommandExpect | undefined) => (e === undefined ? {} : { expect: commandExpectJson(e) });
  switch (s.do) {
    case 'enable':
      return {
        do: s.do,
        admin: {
          sqAddr: hex(s.admin.sqAddr),
          cqAddr: hex(s.admin.cqAddr),
          sqSize: s.admin.sqSize,
          cqSize: s.admin.cqSize,
        },
        ...(s.cc === undefined ? {} : { cc: s.cc }),
        ...stepExpectJson(s.expect),
      };
    case 'disable':
    case 'check':
      return { do: s.do, ...stepExpectJson(s.expect) };
    case 'shutdown':
      return { do: s.do, type: s.type, ...stepExpectJson(s.expect) };
    case 'write-register':
      return { do: s.do, register: s.register, value: hex(s.value), ...stepExpectJson(s.expect) };
    case 'doorbell':
      return { do: s.do, queue: s.queue, qid: s.qid, value: s.value, ...stepExpectJson(s.expect) };
    case 'create-cq':
      return {
        do: s.do,
        ...(s.id === undefined ? {} : { id: s.id }),
        qid: s.qid,
        addr: hex(s.addr),
        size: s.size,
        ...(s.ien === undefined ? {} : { ien: s.ien }),
        ...(s.iv === undefined ? {} : { iv: s.iv }),
        ...(s.pc ? {} : { pc: false }),
        ...cmdExpect(s.expect),
      };
    case 'create-sq':
      return {
        do: s.do,
        ...(s.id === undefined ? {} : { id: s.id }),
        qid: s.qid,
        addr: hex(s.addr),
        size: s.size,
        cqid: s.cqid,
        ...(s.qprio === 0 ? {} : { qprio: s.qprio }),
        ...(s.pc ? {} : { pc: false }),
        ...cmdExpect(s.expect),
      };
    case 'delete-sq':
    case 'delete-cq':
      return { do: s.do, ...(s.id === undefined ? {} : { id: s.id }), qid: s.qid, ...cmdExpect(s.expect) };
    case 'submit':
      return {
        do: s.do,
        qid: s.qid,
        commands: s.commands.map(commandJson),
        ...(s.doorbell ? {} : { doorbell: false }),
        ...stepExpectJson(s.expect),
      };
    case 'ring':
      return { do: s.do, qid: s.qid, ...stepExpectJson(s.expect) };
    case 'cq-head':
      return { do: s.do, qid: s.qid, hold: s.hold, ...stepExpectJson(s.expect) };
    case 'wait':
      return {
        do: s.do,
        ...(s.ms === undefined ? {} : { ms: s.ms }),
        ...(s.for === undefined ? {} : { for: s.for }),
        ...stepExpectJson(s.expect),
      };
    case 'mask-vector':
      return { do: s.do, vector: s.vector, masked: s.masked, ...stepExpectJson(s.expect) };
    case 'write-memory':
      return { do: s.do, addr: hex(s.addr), ...bytesJson(s.content) };
  }
}

/** The JSON form of a case, version 2 (addresses and bytes as hex strings). */
export function serializeCaseFile(c: CaseFile): Json {
  return {
    kind: CASE_FILE_KIND,
    version: CASE_FILE_VERSION,
    description: c.description,
    profile: c.profile,
    controller: c.controller,
    ...(c.inject.length === 0 ? {} : { inject: c.inject }),
    ...(c.seed === undefined ? {} : { seed: c.seed }),
    ...(c.interrupts === 'auto' ? {} : { interrupts: c.interrupts }),
    memory: c.memory.map((m) => ({
      addr: hex(m.addr),
      size: m.size,
      ...(m.content === undefined ? {} : contentJson(m.content)),
      ...(m.grant === undefined ? {} : { grant: m.grant }),
    })),
    steps: c.steps.map(stepJson),
  };
}

/** A memory region's content: its size is the region's, so a fill needs no size of its own. */
function contentJson(b: CaseBytes): Json {
  const { size: _size, ...rest } = bytesJson(b);
  return rest;
}
