/**
 * Named, off-by-default faults of the simulated endpoint controller: each one puts back a bug that
 * an upstream Linux change fixed, at the place in the controller model where that bug lived, so a
 * host-side fuzz campaign can be shown to find it. With no fault named, the controller behaves as
 * the fixed driver does. The NVMe function has its own list (nvme-epf `FUNCTION_FAULTS`).
 */
import { EpcConfigError } from './errors.js';

/** The upstream change a fault undoes, or the observation it models when no fix exists. */
export interface UpstreamFix {
  /** The commit or patch title. */
  readonly title: string;
  /** The abbreviated upstream commit id, or null when the fix is a list patch or there is none. */
  readonly commit: string | null;
  /** Where the bug lived: source file and function, and the release or list the fix went to. */
  readonly where: string;
}

/** One entry of a fault catalogue: what goes wrong, what it models, and what a host sees. */
export interface FaultDescription<Name extends string = string> {
  /** Kebab-case name, as a configuration or `--inject` takes it. */
  readonly name: Name;
  /** One line: the misbehaviour. */
  readonly title: string;
  readonly upstream: UpstreamFix;
  /** What a host observes with the fault on, deterministically. */
  readonly hostSees: string;
  /** What the controller does with the fault off. */
  readonly correct: string;
}

/** The endpoint controller's faults. */
export const EPC_FAULTS = [
  {
    name: 'msix-unmap-before-flush',
    title: 'an MSI-X message written through a transient outbound map is unmapped before it is flushed',
    upstream: {
      title: 'PCI: dwc: ep: Flush MSI-X write before unmapping its ATU entry',
      commit: 'c22533c66cca',
      where: 'drivers/pci/controller/dwc/pcie-designware-ep.c, dw_pcie_ep_raise_msix_irq(); 6.18 stable',
    },
    hostSees:
      'on profiles that send MSI-X through a transient map (dwc, rk3588, imx8m, stress), no interrupt on the ' +
      "vector; instead a 4-byte write arrives at the map's outbound CPU address, untranslated: an access the " +
      'host never granted (its IOMMU records a fault)',
    correct: 'the posted message is flushed through the live map before the map is torn down, so it reaches the host',
  },
] as const satisfies readonly FaultDescription[];

/** The name of an endpoint-controller fault. */
export type EpcFaultName = (typeof EPC_FAULTS)[number]['name'];

/** Every endpoint-controller fault name, in catalogue order. */
export const EPC_FAULT_NAMES: readonly EpcFaultName[] = EPC_FAULTS.map((f) => f.name);

/** `msix-unmap-before-flush` → `msixUnmapBeforeFlush`, at the type level. */
export type FaultFlagName<Name extends string> = Name extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<FaultFlagName<Tail>>}`
  : Name;

/** One boolean per fault, read once at creation: the hot paths test a field, never a name. */
export type FaultFlags<Name extends string> = { readonly [N in Name as FaultFlagName<N>]: boolean };

/** The field name of a fault's flag (kebab-case to camelCase). */
export function faultFlagName<Name extends string>(name: Name): FaultFlagName<Name> {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as FaultFlagName<Name>;
}

/** Flags for `catalogue`, true for the names in `enabled` (names already checked). */
export function faultFlags<Name extends string>(
  catalogue: readonly { readonly name: Name }[],
  enabled: readonly Name[],
): FaultFlags<Name> {
  const flags: Record<string, boolean> = {};
  for (const { name } of catalogue) flags[faultFlagName(name)] = enabled.includes(name);
  return Object.freeze(flags) as FaultFlags<Name>;
}

/** The endpoint controller's fault flags. */
export type EpcFaultFlags = FaultFlags<EpcFaultName>;

/** Checks `names` against {@link EPC_FAULTS}; throws {@link EpcConfigError} naming the field and the known names. */
export function resolveEpcFaults(names: readonly string[]): EpcFaultFlags {
  if (!Array.isArray(names)) throw new EpcConfigError('faults', 'must be an array of fault names');
  for (const name of names) {
    if (!(EPC_FAULT_NAMES as readonly string[]).includes(name)) {
      throw new EpcConfigError('faults', `unknown fault '${String(name)}' (known: ${EPC_FAULT_NAMES.join(', ')})`);
    }
  }
  return faultFlags(EPC_FAULTS, names as readonly EpcFaultName[]);
}
