/** Success checks on the per-command path. */
import { isSuccess, type NvmeStatus, STATUS_SUCCESS } from '@epfsim/nvme-spec-types';

/** {@link isSuccess}, answering the common case (exactly STATUS_SUCCESS) without decoding the fields. */
export function succeeded(status: NvmeStatus): boolean {
  return status === STATUS_SUCCESS || isSuccess(status);
}
