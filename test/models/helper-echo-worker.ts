// Worker for helper-threads.test.ts: doubles a number, replies with an error for 'fail', exits with code 3 for 'exit';
// with workerData 'exit at start', exits with code 2 before serving.

import { workerData } from 'node:worker_threads';
import { serveTasks } from '../../src/util/worker-pool.js';

if (workerData === 'exit at start') process.exit(2);

serveTasks<number | 'fail' | 'exit', number>((task) => {
  if (task === 'fail') throw new Error('asked to fail');
  if (task === 'exit') process.exit(3);
  return task * 2;
});
