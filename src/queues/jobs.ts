import type { JobsOptions } from 'bullmq';

/**
 * The one typed job map: queue → job name → payload. Payloads carry ids, never rows or personal data.
 * BullMQ queue names and job ids must not contain ':'.
 */
export interface JobMap {
  maintenance: {
    /** Re-enqueue what Redis may have lost; the same work the sweeper timer does in every worker. */
    sweep: { reason: string };
  };
  email: {
    /** Send a slice of one workspace's unsent invitations, then re-enqueue while more remain. */
    drain: { workspaceId: string };
  };
  imports: {
    /**
     * The import job, jobId imp-<importId>-<attempt>: prepares the import, fans out batch children
     * (a BullMQ flow), waits for them, then completes the import.
     */
    run: { workspaceId: string; importId: string; step?: 'prepare' | 'finish' };
    /** One batch of an import: the pending rows with idx in [fromIdx, toIdx], one transaction. */
    batch: { workspaceId: string; importId: string; fromIdx: number; toIdx: number };
  };
  invitations: {
    /** Re-invite in bulk: one invitation_resends row. */
    resend: { workspaceId: string; resendId: string };
  };
  scim: {
    /** Run a staged SCIM Bulk request (one scim_bulk_requests row), jobId bulk-<requestId>. */
    bulk: { workspaceId: string; requestId: string };
  };
  webhooks: {
    /** Turn a workspace's new events into deliveries, endpoint by endpoint (one chain per workspace). */
    fanout: { workspaceId: string };
    /** Send one endpoint's due deliveries (one chain per endpoint). */
    deliver: { workspaceId: string; endpointId: string };
  };
}

export type QueueName = keyof JobMap;
export type JobName<Q extends QueueName> = keyof JobMap[Q] & string;
export type JobPayload<Q extends QueueName, N extends JobName<Q>> = JobMap[Q][N];

/** Every job name at run time, so the worker can refuse to start when one has no processor. */
export const JOB_NAMES: { [Q in QueueName]: JobName<Q>[] } = {
  maintenance: ['sweep'],
  email: ['drain'],
  invitations: ['resend'],
  imports: ['run', 'batch'],
  scim: ['bulk'],
  webhooks: ['fanout', 'deliver'],
};

export const QUEUE_NAMES = Object.keys(JOB_NAMES) as QueueName[];

const DAY = 24 * 3600;

/** Five attempts, the first retry after `delay` ms, each next one twice as late. */
const retried = (delay: number): JobsOptions => ({ attempts: 5, backoff: { type: 'exponential', delay } });
/** Finished jobs kept a day (completed) and a week (failed), a thousand of each. */
const kept = (failed = 1_000): JobsOptions => ({
  removeOnComplete: { count: 1_000, age: DAY },
  removeOnFail: { count: failed, age: 7 * DAY },
});

const keptFailed: JobsOptions = { removeOnFail: { count: 1_000, age: 7 * DAY } };

/**
 * Each job's options: attempts, backoff and how long finished jobs are kept. The enqueue helpers add
 * only what depends on the job in hand (its jobId, a batch's parent and priority).
 */
export const JOB_OPTIONS: { [Q in QueueName]: Record<JobName<Q>, JobsOptions> } = {
  maintenance: { sweep: { ...retried(1_000), ...kept(5_000) } },
  email: {
    // An SMTP outage of a minute or so is ridden out; after that the sweeper takes over.
    drain: { ...retried(5_000), removeOnComplete: true, removeOnFail: { count: 1_000, age: 7 * DAY } },
  },
  imports: {
    run: { ...retried(2_000), ...kept() },
    batch: {
      ...retried(1_000),
      failParentOnFailure: true,
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 7 * DAY },
    },
  },
  invitations: { resend: { ...retried(1_000), removeOnComplete: true, removeOnFail: true } },
  scim: { bulk: { ...retried(1_000), ...kept() } },
  // A run that throws (Postgres gone) is retried a few times; the tick and the sweeper take over after.
  webhooks: {
    fanout: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: true,
      ...keptFailed,
    },
    deliver: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: true,
      ...keptFailed,
    },
  },
};
