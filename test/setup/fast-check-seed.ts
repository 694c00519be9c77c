// Every property run is reproducible: the seed comes from FC_SEED or is drawn here,
// and is printed once per test file so a failure can be replayed with
// `FC_SEED=<seed> npx vitest run <file>` (fast-check also prints seed and path on failure).
import fc from 'fast-check';

const seed =
  process.env.FC_SEED !== undefined ? Number(process.env.FC_SEED) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const numRuns = process.env.FC_NUM_RUNS !== undefined ? Number(process.env.FC_NUM_RUNS) : undefined;
fc.configureGlobal({ seed, ...(numRuns !== undefined ? { numRuns } : {}) });
console.log(`[fast-check] seed=${seed}${numRuns !== undefined ? ` numRuns=${numRuns}` : ''} (replay: FC_SEED=${seed})`);
