/**
 * The opcode tables (src/admin/opcodes.ts, src/io/opcodes.ts) against the running controller:
 * every opcode the Commands Supported and Effects log reports as supported dispatches to a
 * handler (any status but 0/01h, or an AER that waits), and every other opcode of the 256 gets
 * Invalid Command Opcode (0/01h), on the admin queue and on an I/O queue.
 */
import { AdminOpcode, decodeCommandEffectsLog, encodeGetLogPage, Lid, Status } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import { ADMIN_COMMANDS } from '../../src/admin/opcodes.js';
import { OPCODES } from '../../src/command/opcode-table.js';
import { IO_COMMANDS } from '../../src/io/opcodes.js';
import { PAGE, ScriptedHost } from '../helpers/scripted-host.js';

/** Commands Supported and Effects: CSUPP is bit 0. */
const CSUPP = 1;
const LOG_BYTES = 4096;

function up(): ScriptedHost {
  const h = new ScriptedHost();
  h.enable();
  h.createPair(1, 64);
  return h;
}

function effectsLog(h: ScriptedHost) {
  const buf = h.alloc(LOG_BYTES);
  const c = h.admin({
    opcode: AdminOpcode.GET_LOG_PAGE,
    nsid: 0xffffffff,
    ...h.prps(buf, LOG_BYTES),
    ...encodeGetLogPage({ lid: Lid.COMMANDS_SUPPORTED_EFFECTS, length: LOG_BYTES, offset: 0n, rae: false }),
  });
  expect(c.status).toBe(0);
  return decodeCommandEffectsLog(h.read(buf, LOG_BYTES));
}

/** The status opcode `opcode` gets on `qid` (NSID 1, a one-page buffer), or undefined when it waits. */
function statusOf(h: ScriptedHost, qid: number, opcode: number): number | undefined {
  const buf = h.alloc(PAGE);
  const cid = h.submit(qid, { opcode, nsid: 1, ...h.prps(buf, PAGE) });
  h.ring(qid);
  return h.wait(qid, cid, 50)?.status;
}

describe('opcode tables, dispatch and the Commands Supported and Effects log agree', () => {
  const h = up();
  const log = effectsLog(h);
  const sets = [
    { name: 'admin', qid: 0, effects: log.acs, table: ADMIN_COMMANDS },
    { name: 'NVM I/O', qid: 1, effects: log.iocs, table: IO_COMMANDS },
  ];
  for (const { name, qid, effects, table } of sets) {
    it(`${name}: the log lists exactly the table's opcodes`, () => {
      const supported = effects.flatMap((v, op) => ((v & CSUPP) !== 0 ? [op] : []));
      expect(supported).toEqual(table.map((row) => row.opcode).sort((a, b) => a - b));
    });

    it(`${name}: each of the ${OPCODES} opcodes dispatches when the log says supported, else 0/01h`, () => {
      for (let opcode = 0; opcode < OPCODES; opcode++) {
        const status = statusOf(h, qid, opcode);
        if (((effects[opcode] ?? 0) & CSUPP) !== 0) {
          // An Asynchronous Event Request waits for an event: no completion is its handler's answer.
          if (opcode !== AdminOpcode.ASYNC_EVENT_REQUEST || qid !== 0) expect(status, `opcode ${opcode}`).toBeDefined();
          expect(status, `opcode 0x${opcode.toString(16)}`).not.toBe(Status.INVALID_OPCODE);
        } else {
          expect(status, `opcode 0x${opcode.toString(16)}`).toBe(Status.INVALID_OPCODE);
        }
      }
    });
  }
});
