import type { EpcProfile } from '@epfsim/epc-core';
import {
  EndpointTestHost,
  type EndpointTestResult,
  MAX_TRANSFER,
  type TestFunctionOptions,
} from '@epfsim/pci-epf-test';
import fc from 'fast-check';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { EXIT_FAILED, EXIT_OK } from './usage-error.js';

/** Where a buffer may start: anywhere in the first 4 MiB of host RAM past its base (1 MiB edges included). */
const PLACE_SPAN = 4 << 20;
/** RK3399's region size, and a multiple of every built-in window granule. */
const EDGE = 0x10_0000;
/** Bytes either side of an edge a buffer is drawn near. */
const NEAR_EDGE = 512;
const HOST_RAM = 16 << 20;
const PAGE = 4096;

const TESTS = ['read', 'write', 'copy'] as const;

/** One generated case: which test, where the buffers start, how big, with DMA or not, the driver's alignment. */
interface EndpointCase {
  readonly profile: number;
  readonly test: (typeof TESTS)[number];
  readonly misalign: number;
  readonly size: number;
  readonly dma: boolean;
  readonly alignment: number;
}

function caseArbitrary(profiles: readonly EpcProfile[]): fc.Arbitrary<EndpointCase> {
  const nearEdge = fc
    .tuple(fc.integer({ min: 1, max: PLACE_SPAN / EDGE - 1 }), fc.integer({ min: -NEAR_EDGE, max: NEAR_EDGE }))
    .map(([k, d]) => k * EDGE + d);
  return fc.record({
    profile: fc.integer({ min: 0, max: profiles.length - 1 }),
    test: fc.constantFrom(...TESTS),
    misalign: fc.oneof(nearEdge, fc.integer({ min: 0, max: PLACE_SPAN })),
    size: fc.oneof(fc.integer({ min: 1, max: 4 * PAGE }), fc.integer({ min: 1, max: MAX_TRANSFER / 4 })),
    dma: fc.boolean(),
    alignment: fc.constantFrom(0, 0, 4, 4096, 65536),
  });
}

/** Runs one case; a case asking for DMA on a controller without an engine runs without. */
function runCase(
  profiles: readonly EpcProfile[],
  c: EndpointCase,
  fn: TestFunctionOptions,
): EndpointTestResult & { leaked: number } {
  const profile = profiles[c.profile] as EpcProfile;
  const h = new EndpointTestHost({
    profile,
    function: fn,
    alignment: c.alignment,
    misalign: c.misalign,
    ramBase: BigInt(PAGE),
    ramSize: HOST_RAM,
  });
  const dma = c.dma && profile.hasDma;
  const r =
    c.test === 'read'
      ? h.readTest(c.size, dma)
      : c.test === 'write'
        ? h.writeTest(c.size, dma)
        : h.copyTest(c.size, dma);
  return { ...r, leaked: h.epc.liveMaps.length + h.host.faultCount };
}

function describeCase(profiles: readonly EpcProfile[], c: EndpointCase): string {
  const profile = profiles[c.profile] as EpcProfile;
  return (
    `${profile.name}: ${c.test.toUpperCase()} ${c.size} bytes${c.dma && profile.hasDma ? ' (DMA)' : ''}, ` +
    `buffers from 0x${(PAGE + c.misalign).toString(16)}, alignment ${c.alignment}`
  );
}

/**
 * `epfsim fuzz --function pci-epf-test`: the endpoint test function with its buffers wherever a
 * host may put them (near 1 MiB edges, anywhere, at any driver alignment), each case checked by
 * CRC-32 as pci_endpoint_test does, for leaked maps and for bus faults. A failure is shrunk by
 * fast-check to the smallest case that still fails, and printed with the seed that replays it.
 */
export function fuzzEndpointTest(
  ctx: CommandContext,
  profiles: readonly EpcProfile[],
  cases: number,
  seed: number,
  /** The function's options: tests plant a broken map loop here. */
  fn: TestFunctionOptions = {},
): number {
  const started = performance.now();
  let run = 0;
  const details = fc.check(
    fc.property(caseArbitrary(profiles), (c) => {
      run++;
      const r = runCase(profiles, c, fn);
      return r.ok && r.leaked === 0;
    }),
    { numRuns: cases, seed },
  );
  const elapsedMs = performance.now() - started;
  const shrunk = details.counterexample?.[0];
  const failure = shrunk === undefined ? undefined : runCase(profiles, shrunk, fn);
  const failureText =
    shrunk === undefined || failure === undefined
      ? undefined
      : `${describeCase(profiles, shrunk)}: ${failure.detail ?? `${failure.leaked} maps leaked or bus faults`}`;
  if (ctx.json) {
    ctx.out(
      JSON.stringify(
        {
          version: JSON_OUTPUT_VERSION,
          function: 'pci-epf-test',
          seed,
          profiles: profiles.map((p) => p.name),
          casesRun: details.numRuns,
          failed: details.failed ? 1 : 0,
          elapsedMs: Math.round(elapsedMs),
          ...(failureText === undefined ? {} : { failure: failureText, shrunk, path: details.counterexamplePath }),
        },
        null,
        2,
      ),
    );
  } else {
    ctx.out(
      `epfsim fuzz --function pci-epf-test: ${details.numRuns} cases in ${(elapsedMs / 1000).toFixed(1)} s ` +
        `(${Math.round((run / elapsedMs) * 1000)} runs/s, shrinking included), seed ${seed}, ` +
        `${details.failed ? 1 : 0} failed; profiles ${profiles.map((p) => p.name).join(', ')}`,
    );
    if (failureText !== undefined) {
      ctx.out(`FAILED ${failureText}`);
      ctx.out(`  replay it: epfsim fuzz --function pci-epf-test --seed ${seed} --cases ${cases} (same profiles)`);
    }
  }
  return details.failed ? EXIT_FAILED : EXIT_OK;
}
