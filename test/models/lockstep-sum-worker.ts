// Worker for helper-threads.test.ts: for each lock-step request, writes the sum of the two argument slots after the
// lock-step ones into the third.

import { parentPort, workerData } from 'node:worker_threads';
import { LOCKSTEP_SLOTS, serveLockstep } from '../../src/util/lockstep.js';

const control = workerData as Int32Array;
parentPort?.postMessage('ready');
serveLockstep(control, () => (control[LOCKSTEP_SLOTS + 2] = control[LOCKSTEP_SLOTS] + control[LOCKSTEP_SLOTS + 1]));
