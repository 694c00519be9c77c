/**
 * Temperature threshold events: when the composite temperature crosses a threshold of the
 * Temperature Threshold feature, a SMART / Health event (type 1, info 01h, log 02h; NVMe Base 1.4
 * §5.2.1) is reported, if Asynchronous Event Configuration enables temperature warnings, once per
 * crossing.
 */
import { AsyncEventInfoSmart, AsyncEventType, getBits, Lid, SMART_CRITICAL_WARNING } from '@epfsim/nvme-spec-types';
import type { AsyncEvents } from '../admin/async-events.js';
import type { FeatureState } from '../admin/features.js';
import type { FunctionStats } from '../stats.js';

export class TemperatureEvents {
  readonly #features: FeatureState;
  readonly #aer: AsyncEvents;
  readonly #stats: FunctionStats;
  #reported = false;

  constructor(features: FeatureState, aer: AsyncEvents, stats: FunctionStats) {
    this.#features = features;
    this.#aer = aer;
    this.#stats = stats;
  }

  /** The thresholds or the event configuration changed: report a new crossing. */
  check(): void {
    const warning = this.#features.temperatureWarning;
    if (warning === this.#reported) return;
    this.#reported = warning;
    const enabled = getBits(this.#features.asyncEventConfig, SMART_CRITICAL_WARNING.TEMPERATURE) === 1;
    if (!warning || !enabled) return;
    this.#stats.asyncEventsPosted++;
    this.#aer.notify(AsyncEventType.SMART, AsyncEventInfoSmart.TEMPERATURE_THRESHOLD, Lid.SMART_HEALTH);
  }

  /** A controller reset: the next crossing is reported again. */
  reset(): void {
    this.#reported = false;
  }
}
