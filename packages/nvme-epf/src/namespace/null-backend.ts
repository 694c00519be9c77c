/** The `null` backend: no data at all, for speed tests (like null_blk without memory backing). */
import type { NamespaceBackend } from './backend.js';

export class NullBackend implements NamespaceBackend {
  read(_offset: number, dst: Uint8Array): boolean {
    dst.fill(0);
    return true;
  }

  write(): boolean {
    return true;
  }

  writeZeroes(): boolean {
    return true;
  }

  deallocate(): boolean {
    return true;
  }

  zeroingCost(): number {
    return 0;
  }

  flush(): boolean {
    return true;
  }

  close(): void {}
}
