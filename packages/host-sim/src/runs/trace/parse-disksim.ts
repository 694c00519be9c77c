/**
 * DiskSim ASCII traces as MQSim reads them (MQSim `src/host/ASCII_Trace_Definition.h`:
 * time column 0 ... type column 4; examples/traces/README.md): one request per line,
 *   `arrival_time_ns device start_sector size_in_sectors type`
 * with 512-byte sectors and type 1 = read, 0 = write.
 *
 * Devices all map onto one namespace unless `device` picks one of them.
 */
import { TraceFormatError } from './trace-format-error.js';
import { quote, traceLines, unsignedDecimalField, unsignedField } from './trace-lines.js';
import type { TraceRequest } from './trace-request.js';

/** DiskSim's sector, whatever the device's own block size. */
export const DISKSIM_SECTOR_BYTES = 512;
const TYPE_WRITE = '0';
const TYPE_READ = '1';

export const DISKSIM_LINE = /^\d+(\.\d+)?\s+\d+\s+\d+\s+\d+\s+\d+$/;

export interface DiskSimOptions {
  /** Keep only this device's requests (column 2). Default: all devices. */
  readonly device?: number;
}

/** Parses a DiskSim ASCII trace. Throws TraceFormatError. */
export function parseDiskSim(text: string, source: string, options: DiskSimOptions = {}): TraceRequest[] {
  const out: TraceRequest[] = [];
  for (const l of traceLines(text)) {
    if (l.fields.length !== 5)
      throw new TraceFormatError(
        source,
        l.line,
        `expected 5 fields "time_ns device sector sectors type", got ${l.fields.length} in ${quote(l.text)}`,
      );
    // MQSim's times are integer nanoseconds; a fraction (DiskSim proper) is rounded, not refused.
    const timeNs = Math.round(unsignedDecimalField(source, l, 0, 'arrival time'));
    const device = unsignedField(source, l, 1, 'device');
    const sector = unsignedField(source, l, 2, 'start sector');
    const sectors = unsignedField(source, l, 3, 'size in sectors');
    const type = l.fields[4];
    if (type !== TYPE_READ && type !== TYPE_WRITE)
      throw new TraceFormatError(
        source,
        l.line,
        `type ${JSON.stringify(type)} is neither 1 (read) nor 0 (write) in ${quote(l.text)}`,
      );
    if (sectors === 0) throw new TraceFormatError(source, l.line, `request of 0 sectors in ${quote(l.text)}`);
    const offset = sector * DISKSIM_SECTOR_BYTES;
    if (!Number.isSafeInteger(offset + sectors * DISKSIM_SECTOR_BYTES))
      throw new TraceFormatError(source, l.line, `sector range beyond 2^53 bytes in ${quote(l.text)}`);
    if (options.device !== undefined && device !== options.device) continue;
    out.push({ timeNs, op: type === TYPE_READ ? 'read' : 'write', offset, length: sectors * DISKSIM_SECTOR_BYTES });
  }
  return out;
}
