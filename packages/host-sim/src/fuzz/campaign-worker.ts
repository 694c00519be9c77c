/** Entry point of a campaign worker thread: runs one worker's slice and posts each outcome. */
import { parentPort, workerData } from 'node:worker_threads';
import { runSlice, type WorkerData, type WorkerMessage } from './campaign.js';

const data = workerData as WorkerData;
const post = (m: WorkerMessage) => parentPort?.postMessage(m);
try {
  runSlice(data.plan, data.worker, data.workers, data.deadline, (outcome) => post({ kind: 'case', outcome }));
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  post({ kind: 'error', message: e.message, stack: e.stack ?? e.message });
}
