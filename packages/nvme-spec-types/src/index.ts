/**
 * @epfsim/nvme-spec-types: NVMe over PCIe constants, byte layouts and pure codecs (NVMe Base 1.4 / 2.0).
 * No runtime dependencies; every layout is checked against the specification in the tests.
 */
export * from './async-events.js';
export * from './bits.js';
export * from './commands.js';
export * from './cqe.js';
export * from './features.js';
export * from './identify.js';
export * from './log-pages.js';
export * from './lookup.js';
export * from './opcodes.js';
export * from './prp.js';
export * from './registers.js';
export * from './sgl.js';
export * from './sqe.js';
export * from './sqe-fields.js';
export * from './status.js';
export * from './struct.js';
