import { PCI_ADDR_LIMIT } from '@epfsim/epc-core';
import { UsageError } from '../cli/usage-error.js';
import {
  CASE_FILE_KIND,
  CASE_FILE_VERSION,
  type CaseCommand,
  type CaseDataCheck,
  type CaseExpectation,
  type CaseFile,
  type CaseGrant,
  type CaseMemory,
  type CaseQueue,
  type CaseRange,
} from './case-file.js';

type Json = Record<string, unknown>;

const MAX_QUEUE_DEPTH = 65536;
const MAX_QID = 0xffff;
const U32_MAX = 0xffff_ffff;
const STATUS_TEXT = /^[0-7]\/[0-9a-f]{1,2}h$/i;
const GRANTS = ['read', 'write', 'read-write', 'none'] as const;
const DIRECTIONS = ['read', 'write'] as const;
/** Largest range a case names (grants, faults): far more than any one command moves. */
const MAX_RANGE = 2 ** 40;

/**
 * Validates a parsed case file. Every problem is one {@link UsageError} line naming
 * the field (`case.commands[3].prp1: …`), so `epfsim replay` can exit 2 with it.
 */
export function parseCaseFile(data: unknown, source = 'case'): CaseFile {
  const c = object(data, source);
  if (c.kind !== CASE_FILE_KIND) throw new UsageError(`${source}.kind: must be "${CASE_FILE_KIND}"`);
  if (c.version !== CASE_FILE_VERSION)
    throw new UsageError(`${source}.version: this epfsim reads version ${CASE_FILE_VERSION}`);
  const profile = c.profile;
  if (
    !(typeof profile === 'string' && profile !== '') &&
    (typeof profile !== 'object' || profile === null || Array.isArray(profile))
  ) {
    throw new UsageError(`${source}.profile: must be a profile name or a profile object`);
  }
  const controller = c.controller === undefined ? {} : object(c.controller, `${source}.controller`);
  const ioQueues = array(c.ioQueues ?? [], `${source}.ioQueues`).map((q, i) => queue(q, `${source}.ioQueues[${i}]`, 1));
  const ids = new Set<number>();
  for (const [i, q] of ioQueues.entries()) {
    if (ids.has(q.qid)) throw new UsageError(`${source}.ioQueues[${i}].qid: ${q.qid} appears twice`);
    ids.add(q.qid);
  }
  const commands = array(c.commands, `${source}.commands`).map((x, i) => command(x, `${source}.commands[${i}]`));
  for (const [i, cmd] of commands.entries()) {
    if (cmd.qid !== 0 && !ids.has(cmd.qid))
      throw new UsageError(`${source}.commands[${i}].qid: no I/O queue ${cmd.qid} in ioQueues`);
  }
  return {
    version: CASE_FILE_VERSION,
    description: c.description === undefined ? '' : string(c.description, `${source}.description`),
    profile: profile as string | Record<string, unknown>,
    controller,
    ...(c.seed === undefined ? {} : { seed: integer(c.seed, `${source}.seed`, -(2 ** 31), 2 ** 32) }),
    adminQueue: queue(c.adminQueue, `${source}.adminQueue`, 0),
    ioQueues,
    memory: array(c.memory ?? [], `${source}.memory`).map((m, i) => memory(m, `${source}.memory[${i}]`)),
    commands,
  };
}

/** The JSON form of a case (addresses and bytes as hex strings). */
export function serializeCaseFile(c: CaseFile): Json {
  return {
    kind: CASE_FILE_KIND,
    version: c.version,
    description: c.description,
    profile: c.profile,
    controller: c.controller,
    ...(c.seed === undefined ? {} : { seed: c.seed }),
    adminQueue: queueJson(c.adminQueue),
    ioQueues: c.ioQueues.map(queueJson),
    memory: c.memory.map((m) => ({
      addr: hex64(m.addr),
      size: m.size,
      ...(m.bytes === undefined ? {} : { bytes: Buffer.from(m.bytes).toString('hex') }),
      ...(m.grant === undefined ? {} : { grant: m.grant }),
    })),
    commands: c.commands.map((cmd) => ({
      qid: cmd.qid,
      opcode: cmd.opcode,
      nsid: cmd.nsid,
      psdt: cmd.psdt,
      fuse: cmd.fuse,
      prp1: hex64(cmd.prp1),
      prp2: hex64(cmd.prp2),
      mptr: hex64(cmd.mptr),
      cdw: cmd.cdw.map((v) => `0x${v.toString(16)}`),
      ...(cmd.grants === undefined
        ? {}
        : { grants: cmd.grants.map((g) => ({ ...rangeJson(g), direction: g.direction })) }),
      ...(cmd.expect === undefined ? {} : { expect: expectJson(cmd.expect) }),
    })),
  };
}

function queueJson(q: CaseQueue): Json {
  return { qid: q.qid, sqAddr: hex64(q.sqAddr), cqAddr: hex64(q.cqAddr), depth: q.depth };
}

function expectJson(e: CaseExpectation): Json {
  return {
    ...(e.status === undefined ? {} : { status: e.status }),
    ...(e.data === undefined
      ? {}
      : { data: e.data.map((d) => ({ addr: hex64(d.addr), bytes: Buffer.from(d.bytes).toString('hex') })) }),
    ...(e.faults === undefined ? {} : { faults: e.faults.map(rangeJson) }),
  };
}

function rangeJson(r: CaseRange): Json {
  return { addr: hex64(r.addr), size: r.size };
}

function hex64(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function queue(data: unknown, at: string, minQid: number): CaseQueue {
  const q = object(data, at);
  return {
    qid: minQid === 0 ? 0 : integer(q.qid, `${at}.qid`, minQid, MAX_QID),
    sqAddr: address(q.sqAddr, `${at}.sqAddr`),
    cqAddr: address(q.cqAddr, `${at}.cqAddr`),
    depth: integer(q.depth, `${at}.depth`, 2, MAX_QUEUE_DEPTH),
  };
}

function memory(data: unknown, at: string): CaseMemory {
  const m = object(data, at);
  const addr = address(m.addr, `${at}.addr`);
  const size = integer(m.size, `${at}.size`, 1, 2 ** 40);
  if (addr + BigInt(size) > PCI_ADDR_LIMIT) throw new UsageError(`${at}: range wraps past 2^64`);
  const bytes = m.bytes === undefined ? undefined : hexBytes(m.bytes, `${at}.bytes`);
  if (bytes !== undefined && bytes.length > size)
    throw new UsageError(`${at}.bytes: ${bytes.length} bytes do not fit in size ${size}`);
  let grant: CaseMemory['grant'];
  if (m.grant !== undefined) {
    if (!GRANTS.includes(m.grant as (typeof GRANTS)[number]))
      throw new UsageError(`${at}.grant: must be one of ${GRANTS.join(', ')}`);
    grant = m.grant as CaseMemory['grant'];
  }
  return { addr, size, ...(bytes === undefined ? {} : { bytes }), ...(grant === undefined ? {} : { grant }) };
}

function command(data: unknown, at: string): CaseCommand {
  const c = object(data, at);
  const cdwData = array(c.cdw ?? [], `${at}.cdw`);
  if (cdwData.length > 6) throw new UsageError(`${at}.cdw: at most 6 values (CDW10..CDW15)`);
  const cdw = [0, 1, 2, 3, 4, 5].map((i) =>
    cdwData[i] === undefined ? 0 : integer(cdwData[i], `${at}.cdw[${i}]`, 0, U32_MAX),
  );
  return {
    qid: integer(c.qid, `${at}.qid`, 0, MAX_QID),
    opcode: integer(c.opcode, `${at}.opcode`, 0, 0xff),
    nsid: c.nsid === undefined ? 0 : integer(c.nsid, `${at}.nsid`, 0, U32_MAX),
    psdt: c.psdt === undefined ? 0 : integer(c.psdt, `${at}.psdt`, 0, 3),
    fuse: c.fuse === undefined ? 0 : integer(c.fuse, `${at}.fuse`, 0, 3),
    prp1: c.prp1 === undefined ? 0n : address(c.prp1, `${at}.prp1`),
    prp2: c.prp2 === undefined ? 0n : address(c.prp2, `${at}.prp2`),
    mptr: c.mptr === undefined ? 0n : address(c.mptr, `${at}.mptr`),
    cdw: cdw as unknown as CaseCommand['cdw'],
    ...(c.grants === undefined
      ? {}
      : { grants: array(c.grants, `${at}.grants`).map((g, i) => grantOf(g, `${at}.grants[${i}]`)) }),
    ...(c.expect === undefined ? {} : { expect: expectation(c.expect, `${at}.expect`) }),
  };
}

function expectation(data: unknown, at: string): CaseExpectation {
  const e = object(data, at);
  let status: string[] | undefined;
  if (e.status !== undefined) {
    const list = typeof e.status === 'string' ? [e.status] : array(e.status, `${at}.status`);
    status = list.map((s, i) => {
      if (typeof s !== 'string' || !STATUS_TEXT.test(s))
        throw new UsageError(`${at}.status[${i}]: must look like "0/13h"`);
      return s;
    });
  }
  let dataChecks: CaseDataCheck[] | undefined;
  if (e.data !== undefined) {
    dataChecks = Array.isArray(e.data)
      ? e.data.map((d, i) => dataCheck(d, `${at}.data[${i}]`))
      : [dataCheck(e.data, `${at}.data`)];
  }
  const faults =
    e.faults === undefined ? undefined : array(e.faults, `${at}.faults`).map((f, i) => range(f, `${at}.faults[${i}]`));
  return {
    ...(status === undefined ? {} : { status }),
    ...(dataChecks === undefined ? {} : { data: dataChecks }),
    ...(faults === undefined ? {} : { faults }),
  };
}

function dataCheck(data: unknown, at: string): CaseDataCheck {
  const d = object(data, at);
  const addr = address(d.addr, `${at}.addr`);
  const bytes = hexBytes(d.bytes, `${at}.bytes`);
  if (addr + BigInt(bytes.length) > PCI_ADDR_LIMIT) throw new UsageError(`${at}: range wraps past 2^64`);
  return { addr, bytes };
}

function range(data: unknown, at: string): CaseRange {
  const r = object(data, at);
  const addr = address(r.addr, `${at}.addr`);
  const size = integer(r.size, `${at}.size`, 1, MAX_RANGE);
  if (addr + BigInt(size) > PCI_ADDR_LIMIT) throw new UsageError(`${at}: range wraps past 2^64`);
  return { addr, size };
}

function grantOf(data: unknown, at: string): CaseGrant {
  const g = object(data, at);
  if (!DIRECTIONS.includes(g.direction as (typeof DIRECTIONS)[number]))
    throw new UsageError(`${at}.direction: must be one of ${DIRECTIONS.join(', ')}`);
  return { ...range(g, at), direction: g.direction as CaseGrant['direction'] };
}

function object(data: unknown, at: string): Json {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new UsageError(`${at}: must be an object`);
  return data as Json;
}

function array(data: unknown, at: string): unknown[] {
  if (!Array.isArray(data)) throw new UsageError(`${at}: must be an array`);
  return data;
}

function string(data: unknown, at: string): string {
  if (typeof data !== 'string') throw new UsageError(`${at}: must be a string`);
  return data;
}

function integer(data: unknown, at: string, min: number, max: number): number {
  const value = typeof data === 'string' && /^0x[0-9a-f]+$/i.test(data) ? Number.parseInt(data, 16) : data;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${at}: must be an integer from ${min} to ${max}`);
  }
  return value;
}

function address(data: unknown, at: string): bigint {
  if (typeof data === 'number' && Number.isSafeInteger(data) && data >= 0) return BigInt(data);
  if (typeof data !== 'string' || !/^0x[0-9a-f]{1,16}$/i.test(data))
    throw new UsageError(`${at}: must be a 64-bit address as a "0x…" string`);
  return BigInt(data);
}

function hexBytes(data: unknown, at: string): Uint8Array {
  if (typeof data !== 'string' || !/^([0-9a-f]{2})*$/i.test(data))
    throw new UsageError(`${at}: must be a string of hex byte pairs`);
  return Uint8Array.from(Buffer.from(data, 'hex'));
}
