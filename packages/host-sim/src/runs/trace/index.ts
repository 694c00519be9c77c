export { fitTrace } from './fit-trace.js';
export { DISKSIM_SECTOR_BYTES, type DiskSimOptions, parseDiskSim } from './parse-disksim.js';
export { parseIolog } from './parse-iolog.js';
export { detectTraceFormat, type ParseTraceOptions, parseTrace, traceSpan } from './parse-trace.js';
export { isTraceFormatError, TraceFormatError } from './trace-format-error.js';
export type { ParsedTrace, TraceFormat, TraceOp, TraceRequest } from './trace-request.js';
