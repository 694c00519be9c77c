import { type ContractViolationKind, EpcContractError } from './errors.js';

export interface ContractViolation {
  readonly kind: ContractViolationKind;
  readonly message: string;
}

/**
 * Watches the function driver's use of the map API. Accesses outside a map or after
 * unmap always throw (they would corrupt memory on real hardware); the other
 * violations are recorded, and thrown too when `strict` (as tests run).
 */
export class ContractChecker {
  readonly violations: ContractViolation[] = [];
  readonly strict: boolean;

  constructor(strict: boolean) {
    this.strict = strict;
  }

  violation(kind: ContractViolationKind, message: string): void {
    this.violations.push({ kind, message });
    const alwaysFatal = kind === 'access-outside-map' || kind === 'access-after-unmap';
    if (alwaysFatal || this.strict) throw new EpcContractError(kind, message);
  }
}
