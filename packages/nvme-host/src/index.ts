/**
 * @epfsim/nvme-host: the host side of the NVMe queue protocol over PCIe, one engine for every
 * host in the project: rings and phase tags, command identifiers, doorbells (batched, delayed or
 * raw), CQE validation and interrupts per vector. It needs only host memory, BAR0 doorbell writes
 * and interrupt counts ({@link QueueBus}), so it drives the in-process function, QEMU, or a test's
 * scripted host alike.
 */
export { CID_MAX, CommandIds, MAX_TAGS, type TrackedCommand } from './command-ids.js';
export { HostCq, HostSq, ringDistance } from './host-queues.js';
export { type HostInterruptMode, type InterruptFinding, InterruptWatch } from './interrupt-watch.js';
export { type ProtocolViolation, type ProtocolViolationKind, VIOLATION_LOG_LIMIT } from './protocol-violation.js';
export type { HostBusMemory, InterruptCounts, QueueBus } from './queue-bus.js';
export { type CompletionEntry, type DoorbellVerdict, QueueEngine, type QueueEngineOptions } from './queue-engine.js';
