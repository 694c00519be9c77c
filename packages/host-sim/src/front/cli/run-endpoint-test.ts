import { type EpcProfile, strategyFor } from '@epfsim/epc-core';
import { runSelftest, type SelftestCase } from '@epfsim/pci-epf-test';
import { userFunction } from '../../host/plugins/user-modules.js';
import type { CommandContext } from './command.js';
import { JSON_OUTPUT_VERSION } from './json-output.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage-error.js';

/** The endpoint functions `run --function` knows: the NVMe function, or the kernel's test function. */
export const FUNCTION_NAMES = ['nvme', 'pci-epf-test'] as const;
/**
 * `--function`: a built-in function's name, or the key of an NVMe function module the CLI loaded
 * (it runs where `nvme` runs, under the same driver, placements, workloads and checks).
 */
export function parseFunction(text: string | undefined): { readonly name: FunctionName; readonly module?: string } {
  const value = text ?? 'nvme';
  if ((FUNCTION_NAMES as readonly string[]).includes(value)) return { name: value as FunctionName };
  if (userFunction(value) !== undefined) return { name: 'nvme', module: value };
  throw new UsageError(
    `--function: '${value}' is not one of ${FUNCTION_NAMES.join(', ')} (or a .mjs NVMe function module)`,
  );
}

export type FunctionName = (typeof FUNCTION_NAMES)[number];

/** Where pci_endpoint_test's buffers go: as the kernel allocates them, or straddling window edges. */
const ENDPOINT_TEST_PLACEMENTS = ['linux', 'adversarial'] as const;
/** RK3399's region size, and a multiple of every built-in window granule: the edge buffers straddle. */
const EDGE = 0x10_0000;
const PAGE = 4096;

export interface EndpointTestChoice {
  readonly profile: EpcProfile;
  readonly placement: string;
  readonly seed: number;
  readonly alignment: number;
  /** The function's map loop: a strategy's name or module key (default the kernel's own mem-map loop). */
  readonly strategy?: string;
}

/** The selftest's cases for a choice: buffers as the placement puts them, the function's map loop as chosen. */
export function endpointTestCases(choice: EndpointTestChoice): SelftestCase[] {
  if (!(ENDPOINT_TEST_PLACEMENTS as readonly string[]).includes(choice.placement))
    throw new UsageError(
      `--placement: pci-epf-test places its buffers as ${ENDPOINT_TEST_PLACEMENTS.join(' or ')}, not '${choice.placement}'`,
    );
  const loop = choice.strategy === undefined ? undefined : strategyFor(choice.strategy);
  return runSelftest({
    profile: choice.profile,
    alignment: choice.alignment,
    misalign: misalignOf(choice),
    ramBase: BigInt(PAGE),
    ...(loop === undefined ? {} : { function: { mapLoop: loop } }),
  });
}

/** With the adversarial placement every buffer starts a seeded distance below a 1 MiB edge, dword aligned as kmalloc'd buffers are at least. */
function misalignOf(choice: EndpointTestChoice): number {
  if (choice.placement !== 'adversarial') return 0;
  return EDGE - PAGE - 4 * (1 + (Math.imul(choice.seed, 0x9e37_79b9) >>> 22));
}

/**
 * `epfsim run --function pci-epf-test`: the kernel selftest (tools/testing/selftests/pci_endpoint)
 * against the Linux endpoint test function on the profile's EPC — the BAR, every interrupt type the
 * controller has, read, write and copy of 1 B to 1 MB with and without DMA — each case checked by
 * CRC-32 as pci_endpoint_test does, and for leaked maps and bus faults. With the adversarial
 * placement every buffer starts just below a 1 MiB edge, so transfers need partial maps.
 */
export function runEndpointTest(ctx: CommandContext, choice: EndpointTestChoice): number {
  const cases = endpointTestCases(choice);
  const misalign = misalignOf(choice);
  const failed = cases.filter((c) => !c.ok);
  if (ctx.json) {
    ctx.out(
      JSON.stringify(
        {
          version: JSON_OUTPUT_VERSION,
          function: 'pci-epf-test',
          profile: choice.profile.name,
          placement: choice.placement,
          alignment: choice.alignment,
          ok: failed.length === 0,
          cases,
        },
        null,
        2,
      ),
    );
  } else {
    ctx.out(
      `epfsim run --function pci-epf-test: ${choice.profile.name}, placement ${choice.placement}` +
        ` (buffers from 0x${(BigInt(PAGE) + BigInt(misalign)).toString(16)}), alignment ${choice.alignment}`,
    );
    for (const c of cases) ctx.out(caseLine(c));
    ctx.out(
      failed.length === 0
        ? `PASS: all ${cases.length} cases passed (checksums, no leaked map, no bus fault)`
        : `FAIL: ${failed.length} of ${cases.length} cases failed`,
    );
  }
  return failed.length === 0 ? EXIT_OK : EXIT_FAILED;
}

function caseLine(c: SelftestCase): string {
  return `  ${c.ok ? 'PASS' : 'FAIL'} ${c.name.padEnd(20)} status 0x${c.status.toString(16).padStart(3, '0')}${c.ok ? '' : `  ${c.detail}`}`;
}
