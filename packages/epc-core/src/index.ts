/**
 * @epfsim/epc-core: a PCI endpoint controller as an endpoint function driver sees it — outbound
 * windows and their ATU, `memMap()` with the kernel's partial-map semantics, inbound BARs, MSI,
 * MSI-X and INTx, a DMA channel — over a host address space that checks every device access
 * against the host's grants. Profiles describe real controllers' limits; strategies are the map
 * loops a function driver may use.
 */
export { fls64, GiB, hex, KiB, MiB, PCI_ADDR_LIMIT, PCI_ADDR_MAX } from './address.js';
export { type AlignedRange, alignAddr, describeAlignRule, leastMapCount } from './align-addr.js';
export type { ContractViolation } from './contract-checker.js';
export type { EpcCounters } from './counters.js';
export { type AlignAddrFunction, registerAlignRule } from './custom-align.js';
export type { EndpointLink } from './endpoint-link.js';
export { createEpc, type Epc, type EpcOptions, type IrqType } from './epc.js';
export type { EpcMap } from './epc-map.js';
export {
  type ContractViolationKind,
  EpcConfigError,
  EpcContractError,
  EpcError,
  type EpcErrorContext,
  type EpcRequest,
  type Errno,
  isEpcError,
} from './errors.js';
export {
  EPC_FAULT_NAMES,
  EPC_FAULTS,
  type EpcFaultFlags,
  type EpcFaultName,
  type FaultDescription,
  type FaultFlagName,
  type FaultFlags,
  faultFlagName,
  faultFlags,
  resolveEpcFaults,
  type UpstreamFix,
} from './faults.js';
export { type GrantHook, HostAddressSpace, type MmioRegion } from './host-address-space.js';
export type { BusDirection, BusFault, BusFaultReason, HostBus } from './host-bus.js';
export type { InboundBar } from './inbound-bar.js';
export type { PciConfig } from './pci-config.js';
export type { AlignRule, AtuRule, EpcProfile, IrqCapabilities, IrqMapping, OutboundWindow } from './profile.js';
export { PROFILE_LIMITS } from './profile-limits.js';
export { parseProfile } from './profile-loader.js';
export { BUILTIN_PROFILES, findProfile, PROFILE_NAMES } from './profiles.js';
export {
  faultError,
  registerStrategy,
  STRATEGIES,
  STRATEGY_NAMES,
  type StrategyName,
  strategyFor,
  type TransferDirection,
  type TransferObserver,
  type TransferStrategy,
  type UserStrategyModule,
} from './strategies/index.js';
