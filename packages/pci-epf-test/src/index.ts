/**
 * @epfsim/pci-epf-test: the Linux PCI endpoint test function (pci-epf-test.c) on epc-core, and the
 * host driver that exercises it (pci_endpoint_test.c), with the kernel selftest's cases.
 */
export { crc32Le, testChecksum } from './crc32.js';
export {
  EndpointTestHost,
  type EndpointTestHostOptions,
  type EndpointTestResult,
} from './endpoint-test-host.js';
export {
  CAP,
  COMMAND,
  FLAG_USE_DMA,
  IRQ_TYPE,
  type IrqTypeValue,
  STATUS,
  TEST_REG,
  TEST_REG_SIZE,
} from './registers.js';
export { runSelftest, SELFTEST_SIZES, type SelftestCase } from './selftest.js';
export {
  EndpointTestFunction,
  MAX_TRANSFER,
  TEST_IRQ_VECTORS,
  TEST_REG_BAR,
  TEST_REG_BAR_SIZE,
  type TestFunctionEvent,
  type TestFunctionOptions,
} from './test-function.js';
export type { MapLoop } from './transfer.js';
