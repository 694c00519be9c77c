export {
  type BlockDevice,
  BlockDeviceError,
  BlockDeviceErrorCode,
  isBlockDeviceError,
  nbdErrnoOf,
} from './block-device.js';
export { checkRequest } from './check-request.js';
export { type ExportInfo, exportInfoOf } from './export-info.js';
export {
  type NbdConnectionInfo,
  type NbdServer,
  type NbdServerOptions,
  startNbdServer,
} from './nbd-server.js';
export { isNbdServerError, NbdServerError } from './nbd-server-error.js';
export { type NegotiationContext, negotiateOption, type OptionOutcome } from './negotiate-option.js';
export * from './protocol.js';
export { emptyNbdStats, type NbdStats } from './stats.js';
