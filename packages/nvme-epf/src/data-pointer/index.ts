/**
 * Data pointer parsing: PRP1/PRP2 and SGL1 of an SQE to the host segments of the command's data,
 * with every check of NVMe Base 1.4 §4.3/§4.4 and its status (docs/nvme-rules.md §1, §2).
 */
export { parsePrps } from './prp.js';
export {
  createDataPointerScratch,
  DATA_POINTER_READ_CHUNK,
  type DataPointerScratch,
} from './scratch.js';
export { segmentsLength } from './segments.js';
export { parseSgl, SGL_MAX_DESCRIPTORS, SGL_SPARE_DESCRIPTORS } from './sgl.js';
export {
  type DataPointerOptions,
  type DataSegment,
  DEFAULT_DATA_POINTER_OPTIONS,
  type HostReader,
  type SglSupport,
} from './types.js';
