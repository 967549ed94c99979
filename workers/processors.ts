import { JOB_NAMES, type QueueName } from '../src/queues/jobs.js';
import type { Processors } from './context.js';
import { drain } from './email.js';
import { resend } from './invitations.js';
import { batch, run } from './imports.js';
import { bulk } from './scim.js';
import { deliver, fanout } from './webhooks.js';

export const processors: Processors = {
  maintenance: {
    sweep: async (job, ctx, log) => {
      const result = await ctx.sweeper.runOnce();
      log.info({ reason: job.data.reason, result }, 'sweep done');
      return result;
    },
  },
  email: { drain },
  invitations: { resend },
  imports: { run, batch },
  scim: { bulk },
  webhooks: { fanout, deliver },
};

/** Refuses to start a worker when a job name of the job map has no processor. */
export function assertProcessors(table: Record<string, Record<string, unknown>>): void {
  const missing: string[] = [];
  for (const queue of Object.keys(JOB_NAMES) as QueueName[]) {
    for (const name of JOB_NAMES[queue]) {
      if (typeof table[queue]?.[name] !== 'function') missing.push(`${queue}/${name}`);
    }
  }
  if (missing.length > 0) throw new Error(`no processor for job(s): ${missing.join(', ')}`);
}
