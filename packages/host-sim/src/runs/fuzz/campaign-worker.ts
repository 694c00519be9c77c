/** Entry point of a campaign worker thread: runs the cases it claims and posts each outcome. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadPlugins } from '../../host/plugins/user-modules.js';
import { CLAIM_CHUNK, runClaimed, type WorkerData, type WorkerMessage } from './campaign.js';

const data = workerData as WorkerData;
const shared = new Int32Array(data.next);
let position = 0;
let end = 0;
const claim = (): number => {
  if (position === end) {
    position = Atomics.add(shared, 0, CLAIM_CHUNK);
    end = position + CLAIM_CHUNK;
  }
  return position++;
};
const post = (m: WorkerMessage) => parentPort?.postMessage(m);
try {
  await loadPlugins(data.plan.plugins ?? []);
  runClaimed(data.plan, claim, data.deadline, (outcome) => post({ kind: 'case', outcome }));
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ kind: 'error', message: e.message, stack: e.stack ?? e.message });
}
