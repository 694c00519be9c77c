/**
 * Command identifiers of one SQ and the commands outstanding under them. A CID is a
 * generation (bits 15:12) and a tag (bits 11:0), as Linux's `nvme_cid()` makes them, so a stale or
 * repeated CQE shows up as a CID that is not outstanding, and a repeat of the last CID a tag
 * completed is told apart as a duplicate completion. Commands live in an array indexed by tag: a
 * hash map keyed by ever-new CIDs would rehash every few dozen commands on the hot path. A caller
 * may also choose its own CID (a case file's); those live in a small map.
 */

const CID_TAG_BITS = 12;
const CID_TAG_MASK = (1 << CID_TAG_BITS) - 1;
const CID_GENERATIONS = 16;
/** Largest command identifier (CDW0 bits 31:16). */
export const CID_MAX = 0xffff;
/** Largest SQ depth whose tags fit 12 bits; deeper rings use fewer tags than slots. */
export const MAX_TAGS = 1 << CID_TAG_BITS;
/** Nothing completed on this tag yet. */
const NONE = -1;

export interface TrackedCommand {
  readonly cid: number;
}

export class CommandIds<C extends TrackedCommand> {
  private readonly byTag: (C | undefined)[];
  private readonly generation: Uint8Array;
  private readonly lastCompleted: Int32Array;
  /**
   * Free tags, oldest freed first (a ring): a tag rests as long as possible before its next use, so
   * a stale or repeated CQE finds its CID not outstanding for as long as possible.
   */
  private readonly freeTags: Uint16Array;
  private freeHead = 0;
  private freeCount = 0;
  /** Commands under a CID the caller chose (not allocated here). */
  private readonly chosen = new Map<number, C>();
  /** CIDs the caller chose that completed, most recent last (for duplicate detection), bounded. */
  private readonly chosenDone: number[] = [];
  private count = 0;

  constructor(tags: number) {
    const n = Math.max(1, Math.min(tags, MAX_TAGS));
    this.byTag = new Array(n).fill(undefined);
    this.generation = new Uint8Array(n);
    this.lastCompleted = new Int32Array(n).fill(NONE);
    this.freeTags = new Uint16Array(n);
    for (let tag = 0; tag < n; tag++) this.pushFree(tag);
  }

  private pushFree(tag: number): void {
    const ring = this.freeTags;
    ring[(this.freeHead + this.freeCount) % ring.length] = tag;
    this.freeCount++;
  }

  private popFree(): number | undefined {
    if (this.freeCount === 0) return undefined;
    const tag = this.freeTags[this.freeHead] as number;
    this.freeHead = (this.freeHead + 1) % this.freeTags.length;
    this.freeCount--;
    return tag;
  }

  get size(): number {
    return this.count + this.chosen.size;
  }

  /** True when no tag is free for a new command. */
  get exhausted(): boolean {
    return this.freeCount === 0;
  }

  /** A new CID, unique among the commands outstanding; undefined when every tag is in use. */
  allocate(): number | undefined {
    const tag = this.popFree();
    if (tag === undefined) return undefined;
    // A generation whose CID a caller has chosen for a command still outstanding is skipped.
    for (let tries = 0; tries < CID_GENERATIONS; tries++) {
      const gen = ((this.generation[tag] as number) + 1) % CID_GENERATIONS;
      this.generation[tag] = gen;
      const cid = (gen << CID_TAG_BITS) | tag;
      if (this.chosen.size === 0 || !this.chosen.has(cid)) return cid;
    }
    this.pushFree(tag);
    return undefined;
  }

  /** Returns an allocated CID that was never used (its command was not submitted). */
  release(cid: number): void {
    const tag = cid & CID_TAG_MASK;
    if (tag < this.byTag.length && this.byTag[tag] === undefined) this.pushFree(tag);
  }

  /** Whether `cid` may be chosen by the caller now: not outstanding. */
  available(cid: number): boolean {
    return this.get(cid) === undefined;
  }

  /** Tracks `cmd` under its CID (allocated here, or chosen by the caller). */
  add(cmd: C, allocated: boolean): void {
    const tag = cmd.cid & CID_TAG_MASK;
    if (allocated && tag < this.byTag.length && this.byTag[tag] === undefined) {
      this.byTag[tag] = cmd;
      this.count++;
      return;
    }
    if (this.get(cmd.cid) !== undefined) throw new RangeError(`CID ${cmd.cid} is already outstanding`);
    this.chosen.set(cmd.cid, cmd);
  }

  get(cid: number): C | undefined {
    const tag = cid & CID_TAG_MASK;
    const cmd = tag < this.byTag.length ? this.byTag[tag] : undefined;
    if (cmd !== undefined && cmd.cid === cid) return cmd;
    return this.chosen.size === 0 ? undefined : this.chosen.get(cid);
  }

  /** Ends `cid`'s command (its tag is free again); returns it, or undefined when it was not outstanding. */
  complete(cid: number): C | undefined {
    const tag = cid & CID_TAG_MASK;
    const cmd = tag < this.byTag.length ? this.byTag[tag] : undefined;
    if (cmd !== undefined && cmd.cid === cid) {
      this.byTag[tag] = undefined;
      this.lastCompleted[tag] = cid;
      this.pushFree(tag);
      this.count--;
      return cmd;
    }
    const chosen = this.chosen.get(cid);
    if (chosen === undefined) return undefined;
    this.chosen.delete(cid);
    this.chosenDone.push(cid);
    if (this.chosenDone.length > MAX_TAGS) this.chosenDone.shift();
    return chosen;
  }

  /** True when `cid` is the last command completed under its tag (or a chosen CID that completed). */
  completedBefore(cid: number): boolean {
    const tag = cid & CID_TAG_MASK;
    if (tag < this.lastCompleted.length && this.lastCompleted[tag] === cid) return true;
    return this.chosenDone.includes(cid);
  }

  /** The outstanding commands, tagged ones first. */
  values(): C[] {
    const out: C[] = [];
    for (const cmd of this.byTag) if (cmd !== undefined) out.push(cmd);
    for (const cmd of this.chosen.values()) out.push(cmd);
    return out;
  }

  /** Forgets every outstanding command (a reset ended them); returns them. */
  drain(): C[] {
    const all = this.values();
    for (const cmd of all) this.complete(cmd.cid);
    return all;
  }
}
