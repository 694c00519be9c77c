/**
 * The structure of a case file, versions 1 and 2, as {@link Shape}s: `parse-case-file.ts`
 * validates against them and `epfsim replay --schema` prints the JSON Schema made from them
 * (docs/case-file.schema.json; a test keeps the two equal).
 */
import { CASE_FILE_KIND, CASE_REGISTERS } from './case-file.js';
import { arrayOf, integer, named, object, oneOf, optional, required, type Shape, toJsonSchema } from './json-shape.js';

const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffff_ffff;
/** AQA.ASQS/ACQS are 12 bits, 0's based: at most 4096 entries (Q-2). */
const ADMIN_MAX_ENTRIES = 4096;
/** QSIZE is 16 bits, 0's based. */
const QUEUE_MAX_ENTRIES = 0x10000;
/** Largest region or range a case names: far more than any case uses. */
const MAX_RANGE = 2 ** 40;
/** MSI-X has at most 2048 vectors. */
const MAX_VECTOR = 2047;
/** A `wait` lasts at most a minute of simulated time. */
const MAX_WAIT_MS = 60_000;

const address = named('address', {
  kind: 'string',
  pattern: /^0x[0-9a-fA-F]{1,16}$/,
  patternText: '"0x1000" (a 64-bit address as a hex string)',
});
const hexBytes = named('hexBytes', {
  kind: 'string',
  pattern: /^([0-9a-fA-F]{2})*$/,
  patternText: '"0a1b2c" (hex byte pairs)',
});
const u32 = named('u32', integer(0, U32, 8));
const u16 = integer(0, U16, 4);
const u8 = integer(0, U8, 2);
const bit = integer(0, 1);
const status = named('status', {
  kind: 'string',
  pattern: /^[0-7]\/[0-9a-fA-F]{1,2}h$/,
  patternText: '"0/13h" (SCT/SC)',
});
const statuses = oneOf(status, arrayOf(status, { min: 1 }));
const grantKind = { kind: 'enum', values: ['read', 'write', 'read-write', 'none'] } as const;
const size = integer(1, MAX_RANGE);

const range = named(
  'range',
  object({ addr: required(address), size: required(size) }),
  'A range of host addresses [addr, addr + size).',
);
const grant = named(
  'grant',
  object({
    addr: required(address),
    size: required(size),
    direction: required({ kind: 'enum', values: ['read', 'write'] }),
  }),
  'A range the host grants the device in one direction while one command runs.',
);
const fill = named(
  'fill',
  object({
    byte: optional(u8, 'Every byte is this value.'),
    pattern: optional(u32, 'Seed of a pattern whose byte i depends only on the seed and i.'),
    offset: optional(integer(0, MAX_RANGE), 'Where in the pattern the bytes start (default 0).'),
  }),
  'Bytes given by a rule instead of listed: one repeated byte, or a slice of a seeded pattern (exactly one of byte, pattern).',
);

// ---- version 2 ----

const memory = named(
  'memory',
  object({
    addr: required(address),
    size: required(size),
    bytes: optional(hexBytes, 'Bytes from addr on (the rest reads as zero).'),
    fill: optional(fill, 'Bytes from addr on, by rule (not with bytes).'),
    grant: optional(grantKind, 'What the device may do here for the whole case (default read-write).'),
  }),
  'Host RAM at [addr, addr + size), with its content and IOMMU grant.',
);
const dataCheck = named(
  'dataCheck',
  object({
    addr: required(address),
    bytes: optional(hexBytes),
    size: optional(size, 'Bytes checked (with fill).'),
    fill: optional(fill),
  }),
  'Host memory at addr must hold these bytes (bytes, or size with fill).',
);
const event = named(
  'event',
  object({ type: required(integer(0, 7)), info: required(u8), lid: required(u8) }),
  'An asynchronous event: the AER completion DW0 (type 2:0, info 15:8, log page 23:16).',
);
const commandExpect = named(
  'commandExpect',
  object({
    status: optional(statuses, 'Accepted statuses; any of them where the specification allows several.'),
    dnr: optional({ kind: 'boolean' }),
    more: optional({ kind: 'boolean' }),
    crd: optional(integer(0, 3)),
    dw0: optional(u32),
    dw1: optional(u32),
    sqhd: optional(u16),
    sqid: optional(u16),
    event: optional(event),
    completes: optional(
      { kind: 'enum', values: ['yes', 'no', 'any'] },
      'yes (default): exactly one CQE; no: never one; any: at most one.',
    ),
    data: optional(oneOf(dataCheck, arrayOf(dataCheck))),
    faults: optional(arrayOf(range), 'Device accesses that may fail while the command runs.'),
  }),
  'What the command’s completion must be; absent fields are not checked.',
);
const sgl1 = named(
  'sgl1',
  object({
    addr: required(address),
    length: required(u32),
    type: required(integer(0, 15)),
    subtype: optional(integer(0, 15)),
  }),
  'The first SGL descriptor, written into DPTR (instead of prp1/prp2).',
);
const command = named(
  'command',
  object({
    id: optional({ kind: 'string', minLength: 1 }, 'A name for reports and wait.for.'),
    opcode: required(u8),
    nsid: optional(u32),
    psdt: optional(integer(0, 3)),
    fuse: optional(integer(0, 3)),
    cid: optional(u16, 'A CID of the case’s choosing (default: the host picks one).'),
    prp1: optional(address),
    prp2: optional(address),
    sgl1: optional(sgl1),
    mptr: optional(address),
    cdw2: optional(u32),
    cdw3: optional(u32),
    cdw: optional(arrayOf(u32, { max: 6 }), 'CDW10..CDW15.'),
    grants: optional(arrayOf(grant)),
    expect: optional(commandExpect),
  }),
  'One SQE by its fields.',
);
const csts = object({ RDY: optional(bit), CFS: optional(bit), SHST: optional(integer(0, 3)) });
const interruptExpect = object({
  vector: required(integer(0, MAX_VECTOR)),
  count: optional(integer(0, U32), 'Exactly this many during the step.'),
  min: optional(integer(0, U32)),
  max: optional(integer(0, U32)),
});
const stepExpect = named(
  'stepExpect',
  object({
    csts: optional(csts, 'CSTS fields after the step.'),
    interrupts: optional(arrayOf(interruptExpect), 'Interrupts per vector during the step.'),
  }),
  'What must hold once the step is done.',
);
const cc = object({
  EN: optional(bit),
  CSS: optional(integer(0, 7)),
  MPS: optional(integer(0, 15)),
  AMS: optional(integer(0, 7)),
  SHN: optional(integer(0, 3)),
  IOSQES: optional(integer(0, 15)),
  IOCQES: optional(integer(0, 15)),
});
const qid = required(u16);
const expectStep = optional(stepExpect);
const expectCommand = optional(commandExpect);
const id = optional({ kind: 'string', minLength: 1 });

const step = (kind: string, props: Parameters<typeof object>[0], description: string): Shape =>
  object({ do: required({ kind: 'const', value: kind }), ...props }, { description });

const steps: Shape = {
  kind: 'tagged',
  tag: 'do',
  name: 'step',
  variants: {
    enable: step(
      'enable',
      {
        admin: required(
          object({
            sqAddr: required(address),
            cqAddr: required(address),
            sqSize: required(integer(1, ADMIN_MAX_ENTRIES)),
            cqSize: required(integer(1, ADMIN_MAX_ENTRIES)),
          }),
        ),
        cc: optional(cc, 'CC fields (default EN 1, CSS 0, MPS 0, AMS 0, SHN 0, IOSQES 6, IOCQES 4).'),
        expect: expectStep,
      },
      'Writes AQA, ASQ and ACQ, then CC; waits for CSTS.RDY or CFS.',
    ),
    disable: step(
      'disable',
      { expect: expectStep },
      'CC.EN = 0; waits for RDY = 0. Commands outstanding never complete.',
    ),
    shutdown: step(
      'shutdown',
      { type: required({ kind: 'enum', values: ['normal', 'abrupt'] }), expect: expectStep },
      'CC.SHN; waits for CSTS.SHST = 10b.',
    ),
    'write-register': step(
      'write-register',
      {
        register: required({ kind: 'enum', values: [...CASE_REGISTERS] }),
        value: required(oneOf(address, integer(0, U32)), 'The value (64-bit registers take a hex string).'),
        expect: expectStep,
      },
      'A raw register write; the controller then runs.',
    ),
    doorbell: step(
      'doorbell',
      {
        queue: required({ kind: 'enum', values: ['sq', 'cq'] }),
        qid,
        value: required(u32),
        expect: expectStep,
      },
      'A raw doorbell write of any value to any queue id.',
    ),
    'create-cq': step(
      'create-cq',
      {
        id,
        qid,
        addr: required(address),
        size: required(integer(1, QUEUE_MAX_ENTRIES)),
        ien: optional({ kind: 'boolean' }, 'Default true.'),
        iv: optional(u16, 'Default 0.'),
        pc: optional({ kind: 'boolean' }, 'Default true.'),
        expect: expectCommand,
      },
      'Create I/O Completion Queue, waited for.',
    ),
    'create-sq': step(
      'create-sq',
      {
        id,
        qid,
        addr: required(address),
        size: required(integer(1, QUEUE_MAX_ENTRIES)),
        cqid: required(u16),
        qprio: optional(integer(0, 3)),
        pc: optional({ kind: 'boolean' }, 'Default true.'),
        expect: expectCommand,
      },
      'Create I/O Submission Queue, waited for.',
    ),
    'delete-sq': step('delete-sq', { id, qid, expect: expectCommand }, 'Delete I/O Submission Queue, waited for.'),
    'delete-cq': step('delete-cq', { id, qid, expect: expectCommand }, 'Delete I/O Completion Queue, waited for.'),
    submit: step(
      'submit',
      {
        qid,
        commands: required(arrayOf(command, { min: 1 })),
        doorbell: optional({ kind: 'boolean' }, 'Ring the tail doorbell once after the batch (default true).'),
        expect: expectStep,
      },
      'Writes the commands into the SQ, then one tail doorbell.',
    ),
    ring: step('ring', { qid, expect: expectStep }, 'The tail doorbell for every entry written so far.'),
    'cq-head': step(
      'cq-head',
      { qid, hold: required({ kind: 'boolean' }), expect: expectStep },
      'hold: consume entries without writing the head doorbell; otherwise write it now.',
    ),
    wait: step(
      'wait',
      {
        ms: optional(integer(0, MAX_WAIT_MS)),
        for: optional(arrayOf({ kind: 'string', minLength: 1 }), 'Command ids to wait for.'),
        expect: expectStep,
      },
      'Lets the controller run.',
    ),
    'mask-vector': step(
      'mask-vector',
      { vector: required(integer(0, MAX_VECTOR)), masked: required({ kind: 'boolean' }), expect: expectStep },
      'Masks or unmasks an MSI-X vector.',
    ),
    check: step('check', { expect: required(stepExpect) }, 'Only checks.'),
    'write-memory': step(
      'write-memory',
      { addr: required(address), bytes: optional(hexBytes), size: optional(size), fill: optional(fill) },
      'The host writes its own memory (bytes, or size with fill): a payload, a PRP list, an SGL segment.',
    ),
  },
};

const common = {
  kind: required({ kind: 'const', value: CASE_FILE_KIND }),
  description: optional({ kind: 'string' }),
  profile: required(
    oneOf({ kind: 'string', minLength: 1 }, { kind: 'open-object' }),
    'A built-in profile name, or an inline profile object validated like a profile file.',
  ),
  controller: optional(
    { kind: 'open-object' },
    'nvme-epf configuration overrides (strategy, namespaces, options, ...); `module`: the path of a user NVMe function module that takes them instead.',
  ),
  seed: optional(integer(-(2 ** 31), 2 ** 32), 'The fuzz case’s seed, when the file came from epfsim fuzz.'),
};

export const CASE_V2_SHAPE: Shape = object(
  {
    ...common,
    version: required({ kind: 'const', value: 2 }),
    inject: optional(arrayOf({ kind: 'string', minLength: 1 }), 'Named faults to inject (docs/faults.md).'),
    interrupts: optional(
      { kind: 'enum', values: ['auto', 'msix', 'msi', 'intx', 'none'] },
      'How the host takes interrupts (default auto: MSI-X, else MSI, else INTx).',
    ),
    memory: optional(arrayOf(memory)),
    steps: required(arrayOf(steps)),
  },
  { name: 'caseV2', description: 'Version 2: a program of host actions with expectations on every step.' },
);

// ---- version 1 (read and migrated) ----

const queueV1 = (withQid: boolean): Shape =>
  object({
    // Files version 1 wrote the admin queue's qid too (always 0).
    ...(withQid ? { qid: required(integer(1, U16)) } : { qid: optional({ kind: 'const', value: 0 }) }),
    sqAddr: required(address),
    cqAddr: required(address),
    depth: required(integer(2, QUEUE_MAX_ENTRIES)),
  });

export const CASE_V1_SHAPE: Shape = object(
  {
    ...common,
    version: required({ kind: 'const', value: 1 }),
    adminQueue: required(queueV1(false)),
    ioQueues: optional(arrayOf(queueV1(true))),
    memory: optional(
      arrayOf(
        object({
          addr: required(address),
          size: required(size),
          bytes: optional(hexBytes),
          grant: optional(grantKind),
        }),
      ),
    ),
    commands: required(
      arrayOf(
        object({
          qid: required(u16),
          opcode: required(u8),
          nsid: optional(u32),
          psdt: optional(integer(0, 3)),
          fuse: optional(integer(0, 3)),
          prp1: optional(address),
          prp2: optional(address),
          mptr: optional(address),
          cdw: optional(arrayOf(u32, { max: 6 })),
          grants: optional(arrayOf(grant)),
          expect: optional(
            object({
              status: optional(statuses),
              data: optional(
                oneOf(
                  object({ addr: required(address), bytes: required(hexBytes) }),
                  arrayOf(object({ addr: required(address), bytes: required(hexBytes) })),
                ),
              ),
              faults: optional(arrayOf(range)),
            }),
          ),
        }),
      ),
    ),
  },
  {
    name: 'caseV1',
    description: 'Version 1 (read and migrated to version 2): a fixed bring-up and one command at a time.',
  },
);

/** The published JSON Schema of case files: version 2, or version 1. */
export function caseFileJsonSchema(): Record<string, unknown> {
  return toJsonSchema(oneOf(CASE_V2_SHAPE, CASE_V1_SHAPE), {
    id: 'https://epfsim.dev/schema/case-file.json',
    title: 'epfsim case file',
  });
}
