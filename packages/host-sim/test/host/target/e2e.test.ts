/**
 * End to end: the host driver over the in-process nvme-epf function on simulated EPC profiles.
 * Every placement writes and reads back with verification; nothing outside the grants is
 * touched; the function leaks no mapping; deliberate violations get their expected statuses.
 */
import { Cns, formatStatus, NvmOpcode } from '@epfsim/nvme-spec-types';
import { describe, expect, it } from 'vitest';
import type { NvmeDriver } from '../../../src/host/driver/nvme-driver.js';
import { AdversarialPlacement } from '../../../src/host/placement/adversarial.js';
import { ALL_INVALID_KINDS, InvalidPlacement } from '../../../src/host/placement/invalid.js';
import { expectedReadBytes, type PlacementPolicy, statusAccepted } from '../../../src/host/placement/layout.js';
import { LinuxPlacement } from '../../../src/host/placement/linux.js';
import { SpdkPlacement } from '../../../src/host/placement/spdk.js';
import type { Testbed } from '../../../src/host/target/epfsim-target.js';
import { driverOn, pattern, testbed } from '../../support/testbed.js';

const PROFILES = ['generic', 'rk3588', 'rk3399', 'stress'] as const;
const PLACEMENTS = {
  linux: (tb: Testbed, seed: number) => new LinuxPlacement(tb.memory, { seed }),
  spdk: (tb: Testbed, seed: number) => new SpdkPlacement(tb.memory, { seed }),
  adversarial: (tb: Testbed, seed: number) => new AdversarialPlacement(tb.memory, { seed, profile: tb.profile }),
} as const;
/** Block counts from one sector to MDTS (512 KiB = 1024 blocks). */
const SIZES = [1, 7, 8, 9, 16, 24, 33, 64, 100, 255, 256, 513, 1024];

/** Writes then reads back `rounds` commands of varied sizes; returns failures as text. */
function writeReadVerify(driver: NvmeDriver, placement: PlacementPolicy, rounds: number, seed: number): string[] {
  const failures: string[] = [];
  for (let i = 0; i < rounds; i++) {
    const nlb = SIZES[(i * 7 + seed) % SIZES.length]!;
    const slba = BigInt(((i * 1031 + seed * 17) % 60) * 1024);
    const data = pattern(nlb * 512, seed * 1000 + i);
    const w = driver.write(1, slba, data, { placement });
    const r = driver.read(1, slba, nlb, { placement });
    const same = r.data !== undefined && Buffer.from(r.data).equals(Buffer.from(expectedReadBytes(r.layout!, data)));
    if (w.completion.status !== 0 || r.completion.status !== 0 || !same) {
      failures.push(
        `#${i} nlb=${nlb} write ${formatStatus(w.completion.status)} [${w.layout?.tags}] read ${formatStatus(r.completion.status)} [${r.layout?.tags}] data ${same ? 'ok' : 'differs'}`,
      );
    }
  }
  return failures;
}

/** Nothing outside the grants, no bus fault, no protocol violation, no leaked map. */
function expectClean(tb: Testbed, driver: NvmeDriver): void {
  expect(tb.memory.isolationViolations).toEqual([]);
  expect(tb.memory.busFaults).toEqual([]);
  expect(driver.violations).toEqual([]);
  expect(tb.leaks()).toBe(0);
}

describe.each(PROFILES)('end to end on %s', (profile) => {
  for (const [name, make] of Object.entries(PLACEMENTS)) {
    it(`${name} placement: bring-up, Identify, queues, write and read back`, () => {
      const tb = testbed(profile);
      // Queues and Identify buffers are placed by the policy under test too.
      const placement = make(tb, 21);
      const driver = driverOn(tb, { placement });
      expect(driver.namespaces.size).toBe(2);
      expect(driver.ioQueueIds).toHaveLength(4);
      const id = driver.identify(Cns.CONTROLLER);
      expect(id.completion.status).toBe(0);
      expect(writeReadVerify(driver, placement, 40, 1)).toEqual([]);
      expectClean(tb, driver);
      driver.shutdown();
      expect(tb.leaks()).toBe(0);
      expect(tb.epc.liveMaps).toHaveLength(0);
    });
  }

  it('many commands in flight with adversarial buffers on every queue', () => {
    const tb = testbed(profile);
    const driver = driverOn(tb);
    const placement = new AdversarialPlacement(tb.memory, { seed: 5, profile: tb.profile });
    const writes = Array.from({ length: 48 }, (_, i) =>
      driver.startIo(NvmOpcode.WRITE, 1, BigInt(i * 64), 16, pattern(8192, i), { placement }),
    );
    for (const w of writes) expect(driver.finish(w).completion.status).toBe(0);
    const reads = Array.from({ length: 48 }, (_, i) =>
      driver.startIo(NvmOpcode.READ, 1, BigInt(i * 64), 16, undefined, { placement }),
    );
    reads.forEach((r, i) => {
      const result = driver.finish(r);
      expect(result.completion.status).toBe(0);
      expect(result.data).toEqual(expectedReadBytes(result.layout!, pattern(8192, i)));
    });
    expectClean(tb, driver);
  });

  it('invalid placement: every violation gets one of its expected statuses', () => {
    const tb = testbed(profile);
    const driver = driverOn(tb);
    const invalid = new InvalidPlacement(tb.memory, { seed: 9 });
    const seen = new Set<string>();
    const wrong: string[] = [];
    for (const kind of ALL_INVALID_KINDS) {
      const only = new InvalidPlacement(tb.memory, {
        seed: 9,
        kinds: [kind],
        arenaBase: 0x10_0000_0000n + BigInt(ALL_INVALID_KINDS.indexOf(kind)) * 0x1000_0000n,
      });
      const results = [
        ...[1, 9, 24].flatMap((nlb) => [
          () => driver.write(1, 32n, pattern(nlb * 512, nlb), { placement: only }),
          () => driver.read(1, 32n, nlb, { placement: only }),
        ]),
        () => driver.identify(Cns.CONTROLLER, 0, 0, only),
      ].flatMap((run) => {
        try {
          return [run()];
        } catch {
          return []; // the kind does not apply to this command
        }
      });
      expect(results.length, kind).toBeGreaterThan(0);
      for (const r of results) {
        const expected = r.layout!.expect!;
        seen.add(expected.kind);
        if (!statusAccepted(r.completion.status, expected.accept)) {
          wrong.push(`${kind}: got ${formatStatus(r.completion.status)}, expected ${formatStatus(expected.status)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect([...seen].sort()).toEqual([...ALL_INVALID_KINDS].sort());
    // The mixed policy draws kinds at random and still gets what it expects.
    for (let i = 0; i < 30; i++) {
      const r = driver.read(1, 64n, 1 + (i % 24), { placement: invalid });
      expect(statusAccepted(r.completion.status, r.layout!.expect!.accept), r.layout!.expect!.kind).toBe(true);
    }
    // Only the deliberate holes fault; nothing is ungranted; the driver still works.
    expect(tb.memory.isolationViolations).toEqual([]);
    expect(tb.memory.busFaults.every((f) => f.reason === 'hole')).toBe(true);
    expect(driver.violations).toEqual([]);
    expect(driver.read(1, 0n, 8).completion.status).toBe(0);
    expect(tb.leaks()).toBe(0);
  });
});

describe('determinism', () => {
  it('one seed reproduces a run bit for bit: placements, statuses, EPC counters', () => {
    const run = () => {
      const tb = testbed('rk3399');
      const placement = new AdversarialPlacement(tb.memory, { seed: 99, profile: tb.profile });
      const driver = driverOn(tb, { placement });
      const trace: string[] = [];
      for (let i = 0; i < 30; i++) {
        const nlb = SIZES[i % SIZES.length]!;
        const w = driver.write(1, BigInt(i * 512), pattern(nlb * 512, i));
        const r = driver.read(1, BigInt(i * 512), nlb);
        for (const x of [w, r]) trace.push(`${Buffer.from(x.layout!.dptr).toString('hex')}:${x.completion.status}`);
      }
      return { trace, counters: { ...tb.epc.counters }, queues: driver.ioQueueIds.map((q) => driver.queue(q)!.cqBase) };
    };
    expect(run()).toEqual(run());
  });
});

describe('end to end across transfer strategies', () => {
  it('mem-map, multi-window and dma move adversarial buffers correctly on rk3399 and stress', () => {
    for (const profile of ['rk3399', 'stress'] as const) {
      for (const strategy of ['mem-map', 'multi-window', 'dma'] as const) {
        const tb = testbed(profile, { function: { strategy } });
        const driver = driverOn(tb);
        const placement = new AdversarialPlacement(tb.memory, { seed: 13, profile: tb.profile });
        expect(writeReadVerify(driver, placement, 20, 2), `${profile}/${strategy}`).toEqual([]);
        expectClean(tb, driver);
      }
    }
  });
});
