import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { AdversarialPlacement } from '../../../src/host/placement/adversarial.js';
import { LinuxPlacement } from '../../../src/host/placement/linux.js';
import { SpdkPlacement } from '../../../src/host/placement/spdk.js';
import {
  NamespaceCommand,
  NamespaceModel,
  type NamespaceSystem,
  namespaceCommands,
} from '../../../src/runs/arbitraries/namespace-model.js';
import { nvmCommand } from '../../../src/runs/arbitraries/nvm-command.js';
import { driverOn, NS512, testbed } from '../../support/testbed.js';

const BLOCKS = NS512.blocks;
/** 512 KiB MDTS over 512-byte blocks. */
const MAX_BLOCKS = 1024;

describe('NamespaceModel', () => {
  it('holds what was written, zeroes where zeroed, and forgets what it cannot know', () => {
    const m = new NamespaceModel(512, 100);
    const data = Uint8Array.from({ length: 1024 }, (_, i) => i & 0xff);
    m.write(10, data);
    expect(m.read(10, 2)).toEqual(data);
    expect(m.read(9, 1)).toEqual(new Uint8Array(512));
    m.zero(11, 1);
    expect(m.read(10, 2)).toEqual(Uint8Array.from([...data.subarray(0, 512), ...new Uint8Array(512)]));
    m.forget(10, 1);
    expect(m.known(10)).toBe(false);
    expect(m.known(11)).toBe(true);
  });
});

describe('nvmCommand', () => {
  test.prop([fc.integer({ min: 1, max: 1 << 30 }), fc.integer({ min: 1, max: 4096 }), fc.nat()])(
    'stays inside the namespace and the transfer limit',
    (blocks, maxBlocks, seed) => {
      for (const c of fc.sample(nvmCommand({ blocks, maxBlocks }), { seed, numRuns: 20 })) {
        expect(c.nlb).toBeGreaterThanOrEqual(1);
        expect(c.nlb).toBeLessThanOrEqual(Math.min(maxBlocks, blocks));
        expect(c.slba + c.nlb).toBeLessThanOrEqual(blocks);
      }
    },
  );

  it('hits the last blocks of the namespace too', () => {
    const cs = fc.sample(nvmCommand({ blocks: BLOCKS, maxBlocks: MAX_BLOCKS }), { seed: 2, numRuns: 300 });
    expect(cs.some((c) => c.slba + c.nlb === BLOCKS)).toBe(true);
    expect(cs.some((c) => c.nlb === 1) && cs.some((c) => c.nlb === MAX_BLOCKS)).toBe(true);
  });
});

/** The model-based test: random sequences with random placements, every read checked against the model. */
describe.each(['generic', 'rk3399', 'stress', 'rk3588'])('namespace commands on %s', (profile) => {
  test.prop(
    [namespaceCommands({ blocks: BLOCKS, maxBlocks: MAX_BLOCKS, hotBlocks: 64, placements: 3, maxCommands: 24 })],
    {
      numRuns: 20,
    },
  )('every read returns what the model says', (commands) => {
    const tb = testbed(profile);
    const driver = driverOn(tb, { ioQueues: 2 });
    const real: NamespaceSystem = {
      driver,
      nsid: 1,
      placements: [
        new LinuxPlacement(tb.memory, { seed: 3, arenaBase: 0x40_0000_0000n, arenaBytes: 64 << 20 }),
        new SpdkPlacement(tb.memory, { seed: 4, arenaBase: 0x50_0000_0000n, arenaBytes: 64 << 20 }),
        new AdversarialPlacement(tb.memory, { seed: 5, profile: tb.profile }),
      ],
    };
    fc.modelRun(() => ({ model: new NamespaceModel(512, BLOCKS), real }), commands);
    expect(tb.memory.isolationViolations).toEqual([]);
    expect(tb.memory.busFaults).toEqual([]);
    expect(driver.violations).toEqual([]);
    expect(tb.leaks()).toBe(0);
  });
});

it('describes a command for the counterexample', () => {
  expect(String(new NamespaceCommand({ kind: 'write', slba: 3, nlb: 2 }, 1, 0))).toBe(
    'write(slba=3, nlb=2, placement=1)',
  );
});
