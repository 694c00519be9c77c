/**
 * @epfsim/host-sim: the simulated host. Host memory with an IOMMU-like grant table and an MSI
 * doorbell; placement policies (linux, spdk, adversarial, invalid) for queues, PRP lists, SGL
 * segments and buffers; an NVMe host driver over a minimal target interface; the in-process
 * epfsim target and its testbed factory.
 */
export * from './arbitraries/index.js';
export * from './differential/index.js';
export * from './driver/admin-commands.js';
export * from './driver/buffer-io.js';
export * from './driver/completion.js';
export * from './driver/driver-options.js';
export type * from './driver/driver-types.js';
export * from './driver/identify-info.js';
export * from './driver/nvm-commands.js';
export * from './driver/nvme-driver.js';
export type * from './driver/pending-command.js';
export * from './errors.js';
export * from './memory/grant-table.js';
export * from './memory/host-memory.js';
export * from './memory/host-range.js';
export * from './memory/msi-doorbell.js';
export * from './nbd/index.js';
export * from './placement/adversarial.js';
export * from './placement/dma-pool.js';
export * from './placement/edges.js';
export * from './placement/invalid.js';
export * from './placement/layout.js';
export * from './placement/linux.js';
export * from './placement/page-allocator.js';
export * from './placement/placement-factory.js';
export * from './placement/prp-builder.js';
export * from './placement/sgl-builder.js';
export * from './placement/spdk.js';
export * from './random.js';
export * from './target/epfsim-target.js';
export * from './target/function-account.js';
export * from './target/sim-clock.js';
export type * from './target/target.js';
export * from './trace/index.js';
