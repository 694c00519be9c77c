import type { NvmeTarget } from './target.js';

/** The interrupt mechanisms a host can enable in the function's configuration space. */
export type InterruptKind = 'msix' | 'msi' | 'intx';

/**
 * Enables the first mechanism of `order` the target offers, as Linux's pci_alloc_irq_vectors()
 * falls back from MSI-X to MSI to INTx, asking for `vectors` MSI-X or MSI vectors. Returns the
 * mechanism and the vectors granted, or `none` with 0 when the target offers none of them.
 */
export function enableFirstInterrupts(
  target: NvmeTarget,
  order: readonly InterruptKind[],
  vectors: { readonly msix: number; readonly msi: number },
): { readonly mode: InterruptKind | 'none'; readonly vectors: number } {
  for (const mode of order) {
    const n =
      mode === 'msix'
        ? target.enableMsix(vectors.msix)
        : mode === 'msi'
          ? target.enableMsi(vectors.msi)
          : target.enableIntx()
            ? 1
            : 0;
    if (n > 0) return { mode, vectors: n };
  }
  return { mode: 'none', vectors: 0 };
}
