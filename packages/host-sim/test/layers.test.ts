/**
 * host-sim is built in layers, each a folder of src/, and a module imports only from its own layer
 * or the layers below: host (memory, placement, driver, targets) → runs (workloads, traces, case
 * files, fuzz campaigns) → reference (QEMU and the differential runner) → front (CLI, serve, NBD,
 * bench, compare). So the library never reaches into the CLI and the host model never into QEMU.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LAYERS = ['host', 'runs', 'reference', 'front'] as const;
const src = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** The layer of a path under src/, or undefined for src/index.ts (the package's public face). */
function layerOf(path: string): number | undefined {
  const top = relative(src, path).split('/')[0] as (typeof LAYERS)[number];
  const rank = LAYERS.indexOf(top);
  return rank < 0 ? undefined : rank;
}

/** Every import of `text` (static, re-export or dynamic) that goes up a layer from `file`. */
function upwardImports(file: string, text: string): string[] {
  const from = layerOf(file);
  if (from === undefined) return [];
  const found: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
    const to = layerOf(resolve(dirname(file), m[1] as string));
    if (to !== undefined && to > from)
      found.push(
        `src/${relative(src, file)} imports ${m[1]}: ${LAYERS[from]} may import only ${LAYERS.slice(0, from + 1).join(', ')}`,
      );
  }
  return found;
}

describe('host-sim layers', () => {
  const files = sources(src);

  it('every source file but the index sits in a layer', () => {
    expect(files.filter((f) => layerOf(f) === undefined).map((f) => relative(src, f))).toEqual(['index.ts']);
  });

  it('no module imports from a layer above its own', () => {
    expect(files.flatMap((f) => upwardImports(f, readFileSync(f, 'utf8')))).toEqual([]);
  });

  it('the check sees an upward import (a host module importing the CLI)', () => {
    const file = join(src, 'host', 'driver', 'nvme-driver.ts');
    expect(upwardImports(file, "import { main } from '../../front/cli/main.js';")).toEqual([
      'src/host/driver/nvme-driver.ts imports ../../front/cli/main.js: host may import only host',
    ]);
    expect(upwardImports(file, "import { x } from '../memory/host-memory.js';")).toEqual([]);
  });
});
