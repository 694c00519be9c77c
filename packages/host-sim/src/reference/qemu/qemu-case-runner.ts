/**
 * Case files on QEMU's NVMe controller, many cases on one QEMU: starting QEMU costs more than a
 * case, so between cases the runner forgets the previous case's guest-RAM placements and zeroes
 * the namespace image, and the replay's own bring-up resets the controller (CC.EN = 0, then the
 * case's queues). Every case thus starts from the state a fresh QEMU has.
 */
import { truncateSync } from 'node:fs';
import type { GrantId, GrantSpec } from '../../host/memory/grant-table.js';
import type { HostRange } from '../../host/memory/host-range.js';
import type { CaseFile } from '../../runs/case-file/case-file.js';
import type { ReplayBed, ReplayMemory } from '../../runs/case-file/replay-bed.js';
import { type ReplayOptions, replayCaseOn } from '../../runs/case-file/replay-case.js';
import type { CaseReport } from '../../runs/case-file/replay-report.js';
import type { QemuGuestMemory } from './guest-memory.js';
import type { QemuOptions } from './qemu-process.js';
import { QEMU_DEFAULTS, QemuTarget } from './qemu-target.js';

/**
 * Guest RAM as a case sees it: a placement reads as zero, as a case file promises ("the rest of the
 * region reads as zero"), however the previous case left those bytes.
 */
class ZeroedPlacements implements ReplayMemory {
  private readonly ram: QemuGuestMemory;

  constructor(ram: QemuGuestMemory) {
    this.ram = ram;
  }

  get isolationViolations() {
    return this.ram.isolationViolations;
  }

  get isolationViolationCount() {
    return this.ram.isolationViolationCount;
  }

  place(addr: bigint, size: number): HostRange {
    const range = this.ram.place(addr, size);
    this.ram.zero(addr, size);
    return range;
  }

  free(range: HostRange): void {
    this.ram.free(range);
  }

  isFree(addr: bigint, size: number): boolean {
    return this.ram.isFree(addr, size);
  }

  isRam(addr: bigint, size: number): boolean {
    return this.ram.isRam(addr, size);
  }

  read(addr: bigint, dst: Uint8Array): void {
    this.ram.read(addr, dst);
  }

  write(addr: bigint, src: Uint8Array): void {
    this.ram.write(addr, src);
  }

  zero(addr: bigint, size: number): void {
    this.ram.zero(addr, size);
  }

  grant(spec: GrantSpec): GrantId {
    return this.ram.grant(spec);
  }

  revoke(id: GrantId): void {
    this.ram.revoke(id);
  }
}

/**
 * Wall-clock milliseconds a command may take on QEMU. The simulated function's 1 s is simulated
 * time; QEMU's is real time, and a loaded machine (a test run on two cores) runs QEMU late.
 * Only a command that never completes waits this long.
 */
export const QEMU_CASE_TIMEOUT_MS = 5_000;

/** One QEMU replaying case after case. */
export class QemuCaseRunner {
  readonly target: QemuTarget;
  readonly options: QemuOptions;
  private readonly bed: ReplayBed;

  private constructor(target: QemuTarget, options: QemuOptions) {
    this.target = target;
    this.options = options;
    this.bed = { target, memory: new ZeroedPlacements(target.memory) };
  }

  static async start(options: Partial<QemuOptions> = {}): Promise<QemuCaseRunner> {
    const resolved = { ...QEMU_DEFAULTS, ...options };
    return new QemuCaseRunner(await QemuTarget.start(resolved), resolved);
  }

  /** The namespace image (the bytes of NSID 1). */
  get imagePath(): string {
    return this.target.diskPath;
  }

  /** Replays `c` from a fresh state: no placements, a zeroed namespace, the controller reset by the bring-up. */
  run(c: CaseFile, options: ReplayOptions = {}): CaseReport {
    this.target.memory.releaseAll();
    // No command is in flight between cases (each was waited for), so QEMU reads the image anew.
    truncateSync(this.imagePath, 0);
    truncateSync(this.imagePath, this.options.diskBytes);
    return replayCaseOn(c, this.bed, { timeoutMs: QEMU_CASE_TIMEOUT_MS, ...options });
  }

  close(): void {
    this.target.close();
  }
}
