import { EpcConfigError } from '@epfsim/epc-core';
import { isNvmeConfigError } from '@epfsim/nvme-epf';
import { isHostSimConfigError, isPlacementError } from '../../host/errors.js';
import { ShapeError } from '../../runs/case-file/json-shape.js';

/**
 * Configuration a user supplied that the libraries refused (a profile file, a controller
 * option, a placement setting): reported like a bad flag, one line and exit 2.
 */
export function isUserConfigError(error: unknown): boolean {
  return (
    error instanceof EpcConfigError ||
    isNvmeConfigError(error) ||
    isHostSimConfigError(error) ||
    isPlacementError(error) ||
    error instanceof ShapeError
  );
}
