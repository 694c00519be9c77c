/**
 * The register BAR of the Linux endpoint test function (`struct pci_epf_test_reg` in
 * drivers/pci/endpoint/functions/pci-epf-test.c, mirrored by drivers/misc/pci_endpoint_test.c):
 * little-endian dwords at fixed offsets, the 64-bit addresses as lower and upper halves.
 */
export const TEST_REG = {
  MAGIC: 0x00,
  COMMAND: 0x04,
  STATUS: 0x08,
  LOWER_SRC_ADDR: 0x0c,
  UPPER_SRC_ADDR: 0x10,
  LOWER_DST_ADDR: 0x14,
  UPPER_DST_ADDR: 0x18,
  SIZE: 0x1c,
  CHECKSUM: 0x20,
  IRQ_TYPE: 0x24,
  IRQ_NUMBER: 0x28,
  FLAGS: 0x2c,
  CAPS: 0x30,
} as const;

/** Bytes of the register block; the function's BAR is at least one page. */
export const TEST_REG_SIZE = 0x34;

/** COMMAND bits: one command per write, the function clears the register when it takes it. */
export const COMMAND = {
  RAISE_INTX_IRQ: 1 << 0,
  RAISE_MSI_IRQ: 1 << 1,
  RAISE_MSIX_IRQ: 1 << 2,
  READ: 1 << 3,
  WRITE: 1 << 4,
  COPY: 1 << 5,
} as const;

/** STATUS bits the function sets for the command it ran. */
export const STATUS = {
  READ_SUCCESS: 1 << 0,
  READ_FAIL: 1 << 1,
  WRITE_SUCCESS: 1 << 2,
  WRITE_FAIL: 1 << 3,
  COPY_SUCCESS: 1 << 4,
  COPY_FAIL: 1 << 5,
  IRQ_RAISED: 1 << 6,
  SRC_ADDR_INVALID: 1 << 7,
  DST_ADDR_INVALID: 1 << 8,
} as const;

/** FLAGS: move the data with the controller's DMA engine instead of memcpy through a map. */
export const FLAG_USE_DMA = 1 << 0;

/** CAPS: what the function can do, read by the host driver at probe. */
export const CAP = {
  /** The function maps any host address itself (pci_epc_mem_map()): buffers need no alignment. */
  UNALIGNED_ACCESS: 1 << 0,
  MSI: 1 << 1,
  MSIX: 1 << 2,
  INTX: 1 << 3,
} as const;

/** IRQ_TYPE values. */
export const IRQ_TYPE = { INTX: 0, MSI: 1, MSIX: 2 } as const;
export type IrqTypeValue = (typeof IRQ_TYPE)[keyof typeof IRQ_TYPE];
