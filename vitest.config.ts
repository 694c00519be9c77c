import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const packages = readdirSync(new URL('./packages', import.meta.url));
const conditions = ['@epfsim/source'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    // Property runs scale with FC_NUM_RUNS; a timeout would hide a counterexample.
    testTimeout: 120_000,
    setupFiles: [fileURLToPath(new URL('./test/setup/fast-check-seed.ts', import.meta.url))],
    projects: [
      ...packages.map((name) => ({
        extends: true as const,
        test: { name, root: `packages/${name}`, include: ['test/**/*.test.ts'] },
      })),
      { extends: true as const, test: { name: 'e2e', include: ['test/**/*.test.ts'], exclude: ['test/setup/**'] } },
    ],
  },
});
