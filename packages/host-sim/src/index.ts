/**
 * @epfsim/host-sim: the simulated host. Host memory with an IOMMU-like grant table and an MSI
 * doorbell; placement policies (linux, spdk, adversarial, invalid) for queues, PRP lists, SGL
 * segments and buffers; an NVMe host driver over a minimal target interface; the in-process
 * epfsim target and its testbed factory.
 */

export * from './front/nbd/index.js';
export * from './host/driver/admin-commands.js';
export * from './host/driver/buffer-io.js';
export * from './host/driver/completion.js';
export * from './host/driver/driver-options.js';
export type * from './host/driver/driver-types.js';
export * from './host/driver/identify-info.js';
export * from './host/driver/nvm-commands.js';
export * from './host/driver/nvme-driver.js';
export type * from './host/driver/pending-command.js';
export * from './host/errors.js';
export * from './host/memory/grant-table.js';
export * from './host/memory/host-memory.js';
export * from './host/memory/host-range.js';
export * from './host/memory/msi-doorbell.js';
export * from './host/placement/adversarial.js';
export * from './host/placement/dma-pool.js';
export * from './host/placement/edges.js';
export * from './host/placement/invalid.js';
export * from './host/placement/layout.js';
export * from './host/placement/linux.js';
export * from './host/placement/page-allocator.js';
export * from './host/placement/placement-factory.js';
export * from './host/placement/prp-builder.js';
export * from './host/placement/sgl-builder.js';
export * from './host/placement/spdk.js';
export * from './host/random.js';
export * from './host/target/epfsim-target.js';
export * from './host/target/function-account.js';
export * from './host/target/sim-clock.js';
export type * from './host/target/target.js';
export * from './reference/differential/index.js';
export * from './runs/arbitraries/index.js';
export * from './runs/trace/index.js';
