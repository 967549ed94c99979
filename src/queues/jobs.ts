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
