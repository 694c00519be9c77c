/** Limits and fixed values of generated fuzz cases: queue depths, batch sizes, ring reserves, opcodes and NSIDs that must fail, Identify offsets checked. */

/** The one namespace every case uses. */
export const NSID = 1;
/** The host's memory page (CC.MPS = 0). */
export const PAGE = 4096;
export const MAX_ACTIONS = 12;
export const MAX_IO_QUEUES = 3;
export const MAX_BATCH = 6;
export const ADMIN_MAX_DEPTH = 64;
export const IO_MAX_DEPTH = 256;
/** Ring space reserved per queue: enough for the deepest ring at the largest page. */
export const RING_RESERVE = IO_MAX_DEPTH * 64;
/** Tries to find a free spot for a ring near the address drawn (a placement arena may sit there). */
export const RING_ATTEMPTS = 64;
/** Jump between tries once the neighbours are taken: far beyond any placement arena. */
export const RING_JUMP = 1n << 36n;
/**
 * With bounded RAM, the rings get the start of it and the placement the rest, so that a policy's
 * arena never takes the room the rings need.
 */
export const RING_REGION_BYTES = 8 * 1024 * 1024;
/** Edges the ring addresses aim at inside bounded RAM: 64 KiB and 1 MiB. */
export const RING_EDGES = [64n * 1024n, 1024n * 1024n] as const;
/** How far (in pages) around an edge a ring address lands. */
export const RING_EDGE_REACH = 2;
/** Layouts drawn before a case gives up on one its target's behaviour cannot take (a skipped case). */
export const LAYOUT_ATTEMPTS = 16;
/** Admin opcodes this controller does not implement (0/01h), NVM ones likewise. */
export const UNSUPPORTED_ADMIN = [0x03, 0x07, 0x0d, 0x10, 0x11, 0x14, 0x15, 0x18, 0x7c, 0x80, 0xc1, 0xff];
export const UNSUPPORTED_NVM = [0x04, 0x0d, 0x0e, 0x11, 0x15, 0x19, 0x7f, 0x81, 0xff];
/** NSIDs that name no namespace (0/0Bh): 0, the next one, and the largest before broadcast. */
export const INVALID_NSIDS = [0, 2, 0x100, 0xffff_fffe];
/** CIDs the case chooses for its AERs (so an Abort can name one). */
export const AER_CID_BASE = 0xa000;
/** Bytes read from the Error Information log (one entry). */
export const ERROR_LOG_BYTES = 64;
/** Identify Controller fields a case checks (NVMe Base 1.4 Figure 247): MDTS, SQES, CQES, NN. */
export const ID_CTRL = { MDTS: 77, SQES: 512, CQES: 513, NN: 516 } as const;
/** Identify Namespace fields a case checks (Figure 249): NSZE, and LBADS of LBA format 0. */
export const ID_NS = { NSZE: 0, LBAF0_LBADS: 130 } as const;
/** SQES and CQES of an NVM controller: required and maximum entry sizes 2^6 and 2^4. */
export const SQES_NVM = 0x66;
export const CQES_NVM = 0x44;
/** Raw doorbell values past the ring of a queue: one past, far past, and the 32-bit limits. */
export const PAST_RING = [0, 1, 7, 0xffff, 0x1_0000, 0xffff_ffff] as const;

/** Identify AERL of the function: four AERs may wait. */
export const AERL = 3;
/** MSI offers at most 32 messages (PCI Local Bus 3.0 §6.8.1.3). */
export const MSI_MAX_VECTORS = 32;
/** Queue ids a case probes stay inside the function's doorbell array (qid ≤ max I/O queues). */
export const MAX_QID_PROBE = 64;
