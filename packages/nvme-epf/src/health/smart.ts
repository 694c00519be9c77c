/**
 * SMART / Health Information (LID 02h; NVMe Base 1.4 §5.14.1.2) with real counters: data units
 * in thousands of 512-byte units rounded up, host read and write commands, power cycles, power-on
 * hours from the configured clock, unsafe shutdowns, media errors and error log entries.
 *
 * What counts where (1.4 §5.14.1.2, docs/nvme-rules.md C-A2): Data Units Read are the blocks of
 * Compare, Read and Verify commands (Verify reads the media though it moves no data to the host);
 * Host Read Commands are Compare and Read commands, not Verify; Data Units Written and Host Write
 * Commands are Write commands only (Write Zeroes and Write Uncorrectable count in neither). A controller reset
 * (CC.EN 1→0) without a shutdown notification first counts as an unsafe shutdown, and every
 * enable after a completed shutdown counts as a new power cycle (the function has no power rail).
 */
import { encodeSmartLog, SMART_CRITICAL_WARNING, setBits } from '@epfsim/nvme-spec-types';

/** Data units are thousands of 512-byte units (NVMe Base 1.4, SMART "Data Units Read"). */
const DATA_UNIT_BYTES = 512;
const DATA_UNITS_PER_COUNT = 1000;
/** Microseconds per hour, for Power On Hours. */
const US_PER_HOUR = 3_600_000_000;
/** Composite temperature reported: 313 K (40 °C); the function has no sensor. */
export const COMPOSITE_TEMPERATURE_K = 313;
/** Identify WCTEMP / CCTEMP and the default over-temperature threshold, in Kelvin. */
export const WARNING_TEMPERATURE_K = 343;
export const CRITICAL_TEMPERATURE_K = 373;
/** Available spare: 100 %, threshold 10 %. */
const AVAILABLE_SPARE = 100;
const AVAILABLE_SPARE_THRESHOLD = 10;

export class SmartCounters {
  bytesRead = 0;
  bytesWritten = 0;
  hostReadCommands = 0n;
  hostWriteCommands = 0n;
  powerCycles = 1n;
  unsafeShutdowns = 0n;
  mediaErrors = 0n;
  /** Time the counters started (power on), from the configured clock in µs. */
  readonly poweredOnAt: number;

  constructor(now: number) {
    this.poweredOnAt = now;
  }

  /** The 512-byte log page; `temperatureWarning` sets Critical Warning bit 1. */
  encode(now: number, errorLogEntries: bigint, temperatureWarning: boolean): Uint8Array {
    const units = (bytes: number) => BigInt(Math.ceil(bytes / DATA_UNIT_BYTES / DATA_UNITS_PER_COUNT));
    return encodeSmartLog({
      criticalWarning: setBits(0, SMART_CRITICAL_WARNING.TEMPERATURE, temperatureWarning ? 1 : 0),
      compositeTemperature: COMPOSITE_TEMPERATURE_K,
      availableSpare: AVAILABLE_SPARE,
      availableSpareThreshold: AVAILABLE_SPARE_THRESHOLD,
      dataUnitsRead: units(this.bytesRead),
      dataUnitsWritten: units(this.bytesWritten),
      hostReadCommands: this.hostReadCommands,
      hostWriteCommands: this.hostWriteCommands,
      powerCycles: this.powerCycles,
      powerOnHours: BigInt(Math.floor(Math.max(0, now - this.poweredOnAt) / US_PER_HOUR)),
      unsafeShutdowns: this.unsafeShutdowns,
      mediaErrors: this.mediaErrors,
      numErrorLogEntries: errorLogEntries,
      tempSensor: [COMPOSITE_TEMPERATURE_K],
    });
  }
}
