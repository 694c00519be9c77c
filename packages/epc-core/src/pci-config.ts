/**
 * The parts of the function's PCI configuration space that the host programs and the
 * interrupt logic reads: the MSI and MSI-X capabilities and the INTx disable bit.
 * Named fields rather than bytes: the function never parses them.
 */
export class PciConfig {
  /** MSI capability: vectors the function offers (1..32, a power of two) and what the host enabled. */
  msiCapable = 0;
  msiEnabled = false;
  msiAddress = 0n;
  msiData = 0;
  /** Multiple Message Enable, as a count of vectors. */
  msiVectors = 1;
  /** MSI-X capability: table size and location in a BAR, and the host's enable and function mask. */
  msixCapable = 0;
  msixBar = 0;
  msixTableOffset = 0;
  msixPbaOffset = 0;
  msixEnabled = false;
  msixFunctionMask = false;
  intxDisabled = false;
}
