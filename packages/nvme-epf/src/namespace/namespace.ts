/**
 * A namespace: NSID, logical block size, capacity and backend, plus the identifiers the host uses
 * to recognise it across resets (NGUID, EUI-64; NVMe Base 1.4 §5.15.2.1, Namespace Identification
 * Descriptors). Identifiers derive from the serial number and NSID, so they are stable per run.
 */
import type { NamespaceConfig } from '../config.js';
import type { NamespaceBackend } from './backend.js';
import { FileBackend } from './file-backend.js';
import { NullBackend } from './null-backend.js';
import { RamBackend } from './ram-backend.js';

const NGUID_BYTES = 16;
const EUI64_BYTES = 8;
/** FNV-1a 32-bit parameters, for a stable identifier hash. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv1a(text: string, seed: number): number {
  let h = (FNV_OFFSET ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME) >>> 0;
  return h;
}

/** `n` bytes of a stable hash of `text`. */
function identifier(text: string, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i += 4) view.setUint32(i, fnv1a(text, i), false);
  return out;
}

export class Namespace {
  readonly nsid: number;
  readonly blockSize: number;
  /** log2(blockSize): LBAF.LBADS. */
  readonly lbads: number;
  readonly blocks: number;
  readonly backend: NamespaceBackend;
  readonly nguid: Uint8Array;
  readonly eui64: Uint8Array;

  constructor(nsid: number, config: NamespaceConfig, serial: string) {
    this.nsid = nsid;
    this.blockSize = config.blockSize;
    this.lbads = Math.log2(config.blockSize);
    this.blocks = config.blocks;
    this.nguid = identifier(`${serial}/${nsid}/nguid`, NGUID_BYTES);
    this.eui64 = identifier(`${serial}/${nsid}/eui64`, EUI64_BYTES);
    const b = config.backend;
    this.backend =
      b.kind === 'file'
        ? new FileBackend(b.path, config.blocks * config.blockSize, `namespaces[${nsid - 1}].backend.path`)
        : b.kind === 'null'
          ? new NullBackend()
          : new RamBackend();
  }

  /** True when blocks [slba, slba + nlb) lie inside the namespace (C-2: no overflow either). */
  inRange(slba: bigint, nlb: number): boolean {
    return slba + BigInt(nlb) <= BigInt(this.blocks);
  }
}
