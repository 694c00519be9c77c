/**
 * fast-check arbitraries for users' own tests: edge-biased host addresses, PRP and SGL layouts,
 * controller profiles, NVM commands, and a namespace model with commands for `fc.modelRun`.
 */
export { type EpcProfileOptions, epcProfile } from './epc-profile.js';
export { addressEdges, type HostAddressOptions, hostAddress } from './host-address.js';
export {
  NamespaceCommand,
  type NamespaceCommandsOptions,
  NamespaceModel,
  type NamespaceSystem,
  namespaceCommands,
} from './namespace-model.js';
export {
  NVM_COMMAND_KINDS,
  type NvmCommandKind,
  type NvmCommandOptions,
  type NvmCommandPick,
  nvmCommand,
} from './nvm-command.js';
export {
  type PrpLayoutOptions,
  type PrpLayoutSpec,
  type PrpRunSpec,
  prpDataChunks,
  prpLayout,
  prpListPageUse,
  writePrpLayout,
} from './prp-layout.js';
export {
  type SglLayoutOptions,
  type SglLayoutSpec,
  type SglPieceSpec,
  sglDataChunks,
  sglLayout,
  writeSglLayout,
} from './sgl-layout.js';
