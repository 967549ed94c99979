import { Worker } from 'bullmq';
import type { Config } from '../../src/config.js';
import { producerConnection, workerConnection } from '../../src/queues/connection.js';
import { Queues } from '../../src/queues/producer.js';

/** Producers on their own connection for the duration of `fn`. */
export async function withQueues<T>(
  redisUrl: string,
  prefix: string,
  fn: (queues: Queues) => Promise<T>,
): Promise<T> {
  const connection = producerConnection(redisUrl);
  connection.on('error', () => {});
  const queues = new Queues(connection, prefix);
  try {
    return await fn(queues);
  } finally {
    await queues.close();
    connection.disconnect();
  }
}

/** Takes the next email job by hand and fails it for good, as a worker would after its last attempt. */
export async function failNextJob(config: Config): Promise<void> {
  const connection = workerConnection(config.redisUrl);
  const worker = new Worker('email', null, { connection, prefix: config.queuePrefix, autorun: false });
  try {
    const job = await worker.getNextJob('test-token');
    await job!.moveToFailed(new Error('simulated'), 'test-token', false);
  } finally {
    await worker.close();
    connection.disconnect();
  }
}
