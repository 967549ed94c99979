import { describe, expect, it, vi } from 'vitest';
import { currentToken } from '../src/provisioning/invitation-tokens.js';
import { call, useTestContext, useTestWorkers } from './support/context.js';
import { readOn, readUntil, type FeedEvent } from './support/events.js';
import { makeWorkspace } from './support/factories.js';
import { upload, waitForImport } from './support/imports.js';

/** Every front door's changes reach the feed as events, with the resource as GET shows it. */
const ctx = useTestContext({ BATCH_SIZE: '2' });
vi.setConfig({ testTimeout: 120_000 });
useTestWorkers(ctx);

const SCIM_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const scim = (token: string, method: 'POST' | 'PATCH', url: string, body?: unknown) =>
  call(ctx.app, method, url, {
    token,
    headers: { 'content-type': 'application/scim+json' },
    ...(body !== undefined ? { body } : {}),
  });

async function imported(token: string, csv: string, query = '') {
  const up = await upload(ctx.app, token, csv, query);
  expect(up.status, JSON.stringify(up.body)).toBe(202);
  return waitForImport(ctx.app, token, up.body.id);
}

/** The invitation link's token of a user's newest invitation (the e-mail would carry it). */
async function inviteToken(workspaceId: string, userId: string): Promise<string> {
  const inv = await ctx.db
    .selectFrom('invitations')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  return currentToken(workspaceId, inv.id);
}

/**
 * The events as "type e-mail-or-id". An import's batches run in parallel, each one transaction, so its
 * users' events come in the order of the batches' transactions: within an import they are sorted here.
 */
function summary(events: FeedEvent[]): string[] {
  const lines = events.map((e) => `${e.type} ${e.data.email ?? e.data.id}`);
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    const imported = (k: number) => /^user\.\w+ d\d@/.test(lines[k] ?? '');
    while (imported(j) && lines[j]!.split(' ')[0] === lines[i]!.split(' ')[0]) j++;
    if (j > i) out.push(...lines.slice(i, j).sort());
    else out.push(lines[j++]!);
    i = j;
  }
  return out;
}

describe('GET /v1/events', () => {
  it('delivers the changes of every front door, in order, each with the resource as GET shows it', async () => {
    const ws = await makeWorkspace(ctx.db, { roles: ['Admin', 'Agent'], locations: ['London'] });
    const t = ws.token;
    const empty = await readOn(ctx.app, t);
    expect(empty).toEqual({ events: [], next: null });

    // REST
    const ann = (
      await call(ctx.app, 'POST', '/v1/users', {
        token: t,
        body: { name: 'Ann Lee', email: 'ann@example.com', role: 'Agent', location: 'London' },
      })
    ).body;
    const patch = (id: string, body: unknown) =>
      call(ctx.app, 'PATCH', `/v1/users/${id}`, { token: t, body });
    expect((await patch(ann.id, { name: 'Ann Leigh' })).status).toBe(200);
    expect((await patch(ann.id, { status: 'deactivated' })).status).toBe(200);
    expect((await patch(ann.id, { status: 'active' })).status).toBe(200);
    const bo = (
      await call(ctx.app, 'POST', '/v1/users', {
        token: t,
        body: { name: 'Bo Ek', email: 'bo@example.com', role: 'Agent' },
      })
    ).body;
    const boBefore = (await call(ctx.app, 'GET', `/v1/users/${bo.id}`, { token: t })).body;
    expect((await call(ctx.app, 'DELETE', `/v1/users/${bo.id}`, { token: t })).status).toBe(204);

    // SCIM: a create, a PATCH, and a group that moves the user's role (user.role_changed in the journal)
    const cy = await scim(t, 'POST', '/scim/v2/Users', {
      schemas: [SCIM_USER],
      userName: 'cy@example.com',
      name: { givenName: 'Cy', familyName: 'Twombly' },
    });
    expect(cy.status, JSON.stringify(cy.body)).toBe(201);
    const cyPatch = await scim(t, 'PATCH', `/scim/v2/Users/${cy.body.id}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'name.givenName', value: 'Cyrus' }],
    });
    expect(cyPatch.status, JSON.stringify(cyPatch.body)).toBe(200);
    const group = await scim(t, 'PATCH', `/scim/v2/Groups/${await roleId(ws.workspaceId, 'Agent')}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'add', path: 'members', value: [{ value: cy.body.id }] }],
    });
    expect([200, 204]).toContain(group.status);

    // The invitation Ann got when she came back, accepted.
    const accept = await call(ctx.app, 'POST', '/v1/invitations/accept', {
      body: { token: await inviteToken(ws.workspaceId, ann.id) },
    });
    expect(accept.status, JSON.stringify(accept.body)).toBe(200);

    // An import of three rows (one event per user, then the import's own), and its revert.
    const imp = await imported(
      t,
      'email,name\nd1@example.com,D One\nd2@example.com,D Two\nd3@example.com,D Three\n',
    );
    expect(imp.status).toBe('completed');
    const rev = await call(ctx.app, 'POST', `/v1/imports/${imp.id}/revert`, { token: t, body: {} });
    expect(rev.status, JSON.stringify(rev.body)).toBe(202);
    const reverted = await waitForImport(ctx.app, t, rev.body.id);
    expect(reverted.counts.deleted).toBe(3);

    // A sync that would deactivate more than the threshold fails: import.failed.
    expect(
      (
        await call(ctx.app, 'PATCH', '/v1/settings', {
          token: t,
          body: { syncThresholdPercent: 0, syncThresholdMin: 0 },
        })
      ).status,
    ).toBe(200);
    const failed = await imported(t, 'email,name\ncy@example.com,Cy\n', 'mode=sync');
    expect(failed.status).toBe('failed');

    const { events } = await readUntil(ctx.app, t, 19);
    expect(summary(events)).toEqual(
      [
        'user.created ann@example.com',
        'user.updated ann@example.com',
        'user.deactivated ann@example.com',
        'user.reactivated ann@example.com',
        'user.created bo@example.com',
        'user.deleted bo@example.com',
        'user.created cy@example.com',
        'user.updated cy@example.com',
        'user.updated cy@example.com',
        'invitation.accepted ann@example.com',
        'user.created d1@example.com',
        'user.created d2@example.com',
        'user.created d3@example.com',
        `import.completed ${imp.id}`,
        'user.deleted d1@example.com',
        'user.deleted d2@example.com',
        'user.deleted d3@example.com',
        `import.reverted ${imp.id}`,
        `import.failed ${failed.id}`,
      ].slice(0, events.length),
    );
    expect(events).toHaveLength(19);

    // Each event is an audit event of this workspace, at the time it was journaled.
    const audit = await ctx.db
      .selectFrom('audit_events')
      .select(['id', 'action', 'created_at'])
      .where('workspace_id', '=', ws.workspaceId)
      .execute();
    const journal = new Map(audit.map((a) => [a.id, a]));
    for (const e of events) {
      expect(e.workspaceId).toBe(ws.workspaceId);
      expect(e.timestamp).toBe(journal.get(e.id)!.created_at.toISOString());
    }
    expect(journal.get(events[8]!.id)!.action).toBe('user.role_changed');

    // data is the resource as GET shows it now; a deleted user as its row was last stored.
    for (const e of events) {
      if (e.type.startsWith('import.')) {
        const got = await call(ctx.app, 'GET', `/v1/imports/${e.data.id}`, { token: t });
        expect(e.data).toEqual(got.body);
        continue;
      }
      const got = await call(ctx.app, 'GET', `/v1/users/${e.data.id}`, { token: t });
      if (got.status === 200) expect(e.data).toEqual(got.body);
      else expect(got.status).toBe(404);
    }
    // Bo is deleted (GET answers 404): both his events show his row as last stored, the deletion
    // having revoked his invitation.
    const boEvents = events.filter((e) => e.data.id === bo.id);
    const boLast = {
      ...boBefore,
      invitation: { ...boBefore.invitation, status: 'revoked' },
      updatedAt: expect.any(String),
      version: expect.any(Number),
    };
    expect(boEvents.map((e) => e.data)).toEqual([boLast, boLast]);
    expect(events.find((e) => e.type === 'import.reverted')!.data).toMatchObject({
      id: imp.id,
      revertedBy: rev.body.id,
    });
    expect(events.find((e) => e.type === 'import.failed')!.data).toMatchObject({
      status: 'failed',
      error: { code: 'sync_threshold_exceeded' },
    });
  });
});

async function roleId(workspaceId: string, name: string): Promise<string> {
  const role = await ctx.db
    .selectFrom('roles')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return role.id;
}
