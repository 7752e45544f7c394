import { AuditKind, AuditRecord, ReviewDecision, ReviewOutcome } from '@mandate/contracts';
import { Topics } from '@mandate/messaging';
import { leafHash, verifyCheckpoint, verifyInclusion } from '@mandate/ledger-domain';
import { createLogger } from '@mandate/platform';
import { DEMO_TENANT, EmbeddedMandate, runDemo, startEmbedded } from './embedded';
import { waitFor } from './testing/wait-for';

/**
 * The review API on the embedded process, as the console uses it: dev login (local OIDC
 * issuer), the queue, claims, decisions, comments; tenant isolation, roles, idempotency, and a
 * four-eyes edit-then-approve re-checked by policy.
 */

interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

describe('review API (embedded)', () => {
  let m: EmbeddedMandate;
  const tokens = new Map<string, string>();

  const call = async (
    who: string | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Res> => {
    const res = await fetch(`http://127.0.0.1:${m.httpPort}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(who ? { authorization: `Bearer ${tokens.get(who)}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const tasks = (who: string, tenant = 'acme', query = '') =>
    call(who, 'GET', `/v1/tenants/${tenant}/review/tasks${query}`);
  const taskOn = async (recordId: string) => {
    const res = await tasks('rev-ana', 'acme', '?limit=500');
    const item = res.body.items.find(
      (i: { target: { recordId: string } }) => i.target.recordId === recordId,
    );
    if (!item) throw new Error(`no open review task on ${recordId}`);
    return item as { taskId: string; [k: string]: unknown };
  };
  const path = (taskId: string, suffix = '') => `/v1/tenants/acme/review/tasks/${taskId}${suffix}`;

  beforeAll(async () => {
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      reviewSweepIntervalMs: 0,
    });
    await runDemo(m);
    for (const sub of ['rev-ana', 'rev-ben', 'sup-cleo', 'aud-dan', 'adm-eve', 'rev-gus']) {
      const login = await call(undefined, 'POST', '/v1/dev/login', { sub });
      expect(login.status).toBe(200);
      tokens.set(sub, login.body.token);
    }
  }, 60_000);
  afterAll(async () => {
    await m.close();
  });

  it('signs in with the dev login (configured reviewers only) and needs a token everywhere', async () => {
    expect((await call(undefined, 'POST', '/v1/dev/login', { sub: 'mallory' })).status).toBe(400);
    expect((await call(undefined, 'GET', '/v1/me')).status).toBe(401);
    expect((await tasks('nobody')).status).toBe(401);
    const me = await call('rev-ana', 'GET', '/v1/me');
    expect(me.body).toEqual({ id: 'rev-ana', roles: ['reviewer'], tenantId: 'acme' });
    // A token of the local issuer for a role the API does not know grants nothing.
    tokens.set('odd', m.issuer.issue({ sub: 'odd', roles: ['janitor'], tenant: 'acme' }));
    expect((await call('odd', 'GET', '/v1/me')).status).toBe(403);
  });

  it('queues the low-fit lead for review, with the evidence and the record redacted by role', async () => {
    const item = await taskOn('lead-0002');
    expect(item).toMatchObject({
      tenantId: 'acme',
      status: 'OPEN',
      team: 'general',
      actionType: 'disqualify_lead',
      verdict: 'APPROVE_1',
      requiredApprovals: 1,
      agentId: 'lead-qualification',
      target: { objectType: 'lead', recordId: 'lead-0002' },
      postHoc: false,
    });
    expect(Date.parse(item['dueAt'] as string)).toBeGreaterThan(Date.now());

    const detail = (await call('rev-ana', 'GET', path(item.taskId))).body;
    expect(detail.decision.explanation.riskContributions.length).toBeGreaterThan(0);
    expect(detail.decision.explanation.policiesMatched.length).toBeGreaterThan(0);
    expect(detail.proposal).toMatchObject({
      agentId: 'lead-qualification',
      prompt: { promptId: 'lead-qualification' },
      model: { offline: true },
      action: { type: 'disqualify_lead' },
    });
    expect(detail.proposal.prompt.contentHash).toMatch(/^sha256:/);
    // Personal fields (the connector's classification) are masked for a reviewer...
    expect(detail.record.fields).toMatchObject({ name: '•••', email: '•••', status: 'New' });
    // ...and for an auditor; a supervisor sees them.
    const audited = (await call('aud-dan', 'GET', path(item.taskId))).body;
    expect(audited.record.fields.email).toBe('•••');
    const supervised = (await call('sup-cleo', 'GET', path(item.taskId))).body;
    const lead = await m.crm.get(DEMO_TENANT, 'lead-0002');
    expect(supervised.record.fields.email).toBe(lead?.fields['email']);
  });

  it('lets exactly one of two concurrent claims win; the loser cannot decide', async () => {
    const item = await taskOn('case-0006');
    const [a, b] = await Promise.all([
      call('rev-ana', 'POST', path(item.taskId, '/claim')),
      call('rev-ben', 'POST', path(item.taskId, '/claim')),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const [winner, loser] = a.status === 200 ? ['rev-ana', 'rev-ben'] : ['rev-ben', 'rev-ana'];
    const lost = a.status === 200 ? b : a;
    expect(lost.body.code).toBe('TASK_ALREADY_CLAIMED');
    expect((a.status === 200 ? a : b).body).toMatchObject({
      status: 'CLAIMED',
      assigneeId: winner,
    });
    const decide = await call(loser, 'POST', path(item.taskId, '/decision'), {
      outcome: 'APPROVE',
    });
    expect(decide.status).toBe(409);
    // The claimant releases; it is open again.
    const released = await call(winner, 'POST', path(item.taskId, '/release'));
    expect(released.status).toBe(200);
    expect(released.body.status).toBe('OPEN');
    expect(released.body.assigneeId).toBeUndefined();
  });

  it('lets an auditor read the queue but never claim or decide', async () => {
    const item = await taskOn('case-0006');
    expect((await tasks('aud-dan')).status).toBe(200);
    expect((await call('aud-dan', 'GET', path(item.taskId))).status).toBe(200);
    const claim = await call('aud-dan', 'POST', path(item.taskId, '/claim'));
    expect(claim.status).toBe(403);
    const decide = await call('aud-dan', 'POST', path(item.taskId, '/decision'), {
      outcome: 'APPROVE',
    });
    expect(decide.status).toBe(403);
    const batch = await call('aud-dan', 'POST', '/v1/tenants/acme/review/batch-approve', {
      taskIds: [item.taskId],
    });
    expect(batch.status).toBe(403);
    expect((await call('rev-ana', 'GET', path(item.taskId))).body.status).toBe('OPEN');
  });

  it('shows a reviewer of another tenant nothing of acme', async () => {
    const item = await taskOn('case-0006');
    expect((await tasks('rev-gus', 'acme')).status).toBe(403);
    expect((await call('rev-gus', 'GET', path(item.taskId))).status).toBe(403);
    expect((await call('rev-gus', 'POST', path(item.taskId, '/claim'))).status).toBe(403);
    // Even through its own tenant's path, acme's task does not exist.
    const viaGlobex = await call(
      'rev-gus',
      'GET',
      `/v1/tenants/globex/review/tasks/${item.taskId}`,
    );
    expect(viaGlobex.status).toBe(404);
    const own = await tasks('rev-gus', 'globex');
    expect(own.status).toBe(200);
    expect(own.body.items).toEqual([]);
  });

  it("serves the agents view, or one agent's (?agentId=), validating the id", async () => {
    const all = await call('rev-ana', 'GET', '/v1/tenants/acme/agents');
    expect(all.status).toBe(200);
    expect(all.body.agents.length).toBeGreaterThan(1);
    const desk = await call('rev-ana', 'GET', '/v1/tenants/acme/agents?agentId=deal-desk');
    expect(desk.status).toBe(200);
    expect(desk.body.agents.map((a: { agentId: string }) => a.agentId)).toEqual(['deal-desk']);
    expect(desk.body.agents[0]).toEqual(
      all.body.agents.find((a: { agentId: string }) => a.agentId === 'deal-desk'),
    );
    expect(desk.body.killSwitches).toEqual(all.body.killSwitches);
    expect(
      (await call('rev-ana', 'GET', '/v1/tenants/acme/agents?agentId=nobody')).body.agents,
    ).toEqual([]);
    for (const bad of ['a%20b', 'x'.repeat(129), 'a&agentId=b', ''])
      expect((await call('rev-ana', 'GET', `/v1/tenants/acme/agents?agentId=${bad}`)).status).toBe(
        400,
      );
  });

  it("gives an admin only its own tenant: a tenant's admin reads acme, not globex; an admin token with no tenant reads nothing", async () => {
    expect((await tasks('adm-eve', 'acme')).status).toBe(200);
    expect((await tasks('adm-eve', 'globex')).status).toBe(403);
    expect((await call('adm-eve', 'GET', '/v1/tenants/globex/agents')).status).toBe(403);
    // An OIDC token granting `admin` without the tenant claim is no platform admin.
    tokens.set('root', m.issuer.issue({ sub: 'root', roles: ['admin'] }));
    expect((await call('root', 'GET', '/v1/me')).body).toEqual({
      id: 'root',
      roles: ['admin'],
      tenantId: null,
    });
    for (const tenant of ['acme', 'globex']) {
      const item = await taskOn('case-0006');
      for (const route of [
        `/v1/tenants/${tenant}/review/tasks`,
        `/v1/tenants/${tenant}/review/tasks/${item.taskId}`,
        `/v1/tenants/${tenant}/review/analytics`,
        `/v1/tenants/${tenant}/agents`,
      ]) {
        const res = await call('root', 'GET', route);
        expect([route, res.status]).toEqual([route, 403]);
      }
    }
  });

  it('approves the lead: executed in the CRM, REVIEW_DECISION then EXECUTION in the ledger; duplicates change nothing', async () => {
    const item = await taskOn('lead-0002');
    const comment = await call('rev-ana', 'POST', path(item.taskId, '/comments'), {
      text: 'Student, free-mail: not a buyer.',
    });
    expect(comment.status).toBe(201);
    expect(comment.body).toMatchObject({ authorId: 'rev-ana' });

    // The same request twice at once (a double click): one decision.
    const body = { outcome: 'APPROVE', reasonCode: 'NOT_A_BUYER' };
    const headers = { 'idempotency-key': 'click-1' };
    const [first, second] = await Promise.all([
      call('rev-ana', 'POST', path(item.taskId, '/decision'), body, headers),
      call('rev-ana', 'POST', path(item.taskId, '/decision'), body, headers),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.body.duplicate, second.body.duplicate].sort()).toEqual([false, true]);
    expect(first.body.reviewDecisionId).toBe(second.body.reviewDecisionId);
    for (const r of [first, second])
      expect(r.body).toMatchObject({
        status: 'APPROVED',
        effect: 'approved',
        requiredApprovals: 1,
        approvedBy: ['rev-ana'],
      });
    // Without the key, a second decision is refused: the task is closed.
    const again = await call('rev-ana', 'POST', path(item.taskId, '/decision'), body);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('TASK_CLOSED');

    await waitFor('the lead to be disqualified', async () => {
      const lead = await m.crm.get(DEMO_TENANT, 'lead-0002');
      return lead?.fields['status'] === 'Disqualified' ? lead : undefined;
    });
    const chain = await waitFor('the execution in the ledger', async () => {
      const c = await m.ledger.byCorrelation(DEMO_TENANT, 'demo-lead-0002');
      return c.some((e) => e.record?.kind === AuditKind.AUDIT_KIND_EXECUTION) ? c : undefined;
    });
    const kinds = chain.map((e) => e.record!.kind);
    const decisionAt = kinds.indexOf(AuditKind.AUDIT_KIND_REVIEW_DECISION);
    expect(decisionAt).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf(AuditKind.AUDIT_KIND_EXECUTION)).toBeGreaterThan(decisionAt);
    expect(chain[decisionAt].record!.actor).toBe('rev-ana');
    expect(kinds.filter((k) => k === AuditKind.AUDIT_KIND_REVIEW_DECISION)).toHaveLength(1);

    // The same review decision id arriving as a message (another console): nothing changes.
    const replay = ReviewDecision.fromPartial({
      reviewDecisionId: first.body.reviewDecisionId,
      taskId: item.taskId,
      tenantId: DEMO_TENANT,
      correlationId: 'demo-lead-0002',
      reviewerId: 'rev-ana',
      outcome: ReviewOutcome.REVIEW_OUTCOME_APPROVE,
      reasonCode: 'NOT_A_BUYER',
      decidedAt: new Date().toISOString(),
    });
    await m.runtime.bus.publish(Topics.reviewDecisions, replay, {
      tenantId: DEMO_TENANT,
      correlationId: 'demo-lead-0002',
      source: 'other-console',
      id: `replay-${replay.reviewDecisionId}`,
    });
    await new Promise((r) => setTimeout(r, 600));
    const after = await m.ledger.byCorrelation(DEMO_TENANT, 'demo-lead-0002');
    expect(
      after.filter((e) => e.record?.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION),
    ).toHaveLength(1);
    expect((await m.crm.get(DEMO_TENANT, 'lead-0002'))?.appliedActions).toHaveLength(1);
    const detail = (await call('rev-ana', 'GET', path(item.taskId))).body;
    expect(detail.reviews).toHaveLength(1);
    expect(detail.comments.map((c: { text: string }) => c.text)).toContain(
      'Student, free-mail: not a buyer.',
    );
    expect(detail.history.map((h: { kind: string }) => h.kind)).toEqual(
      expect.arrayContaining(['opened', 'decision', 'closed']),
    );
  });

  it("serves an item's audit trail with inclusion proofs that verify against the signed checkpoint", async () => {
    // The lead's task (approved by the test above; approved here when run alone).
    const all = await tasks('sup-cleo', 'acme', '?limit=500&status=OPEN,CLAIMED,APPROVED');
    const item = all.body.items.find(
      (i: { target: { recordId: string } }) => i.target.recordId === 'lead-0002',
    ) as { taskId: string; status: string };
    if (item.status !== 'APPROVED')
      expect(
        (await call('rev-ana', 'POST', path(item.taskId, '/decision'), { outcome: 'APPROVE' }))
          .status,
      ).toBe(200);
    // Wait until the execution is under a signed checkpoint (the embedded ledger signs each second).
    const trail = await waitFor('the execution under a checkpoint', async () => {
      const r = await call('aud-dan', 'GET', path(item.taskId, '/audit'));
      expect(r.status).toBe(200);
      return r.body.entries.some((e: { kind: string }) => e.kind === 'EXECUTION')
        ? r.body
        : undefined;
    });
    expect(trail.correlationId).toBe('demo-lead-0002');
    const cp = trail.checkpoint;
    const opened = verifyCheckpoint(cp.signedNote, [m.ledgerVerifierKey], { origin: cp.origin });
    expect(opened.ok).toBe(true);
    const root = Buffer.from(cp.rootHash, 'base64');
    expect(opened.ok && Buffer.from(opened.checkpoint.rootHash).equals(root)).toBe(true);
    for (const e of trail.entries) {
      const leaf = leafHash(Buffer.from(e.leafData, 'base64'));
      expect(leaf.toString('base64')).toBe(e.leafHash);
      const proof = (e.auditPath as string[]).map((x) => Buffer.from(x, 'base64'));
      expect(verifyInclusion(e.leafIndex, cp.treeSize, leaf, proof, root)).toEqual({ ok: true });
      // What the view says is what the proven bytes say.
      const stored = AuditRecord.decode(Buffer.from(e.leafData, 'base64'));
      expect([e.recordId, e.summary, e.actor]).toEqual([
        stored.recordId,
        stored.summary,
        stored.actor,
      ]);
    }
    // The CRM change's payload (the lead's fields) is encrypted for its data subject inside the
    // leaf bytes: the lead's address appears nowhere in what the route returns.
    const change = trail.entries.find((e: { kind: string }) => e.kind === 'CRM_CHANGE');
    const changeRecord = AuditRecord.decode(Buffer.from(change.leafData, 'base64'));
    expect(changeRecord.payloadEncryption).not.toBe('');
    const email = String((await m.crm.get(DEMO_TENANT, 'lead-0002'))?.fields['email']);
    expect(email).toContain('@');
    expect(JSON.stringify(trail)).not.toContain(email);
    expect(
      trail.entries.every(
        (e: { leafData: string }) =>
          !Buffer.from(e.leafData, 'base64').toString('latin1').includes(email),
      ),
    ).toBe(true);
    expect(trail.entries.map((e: { kind: string }) => e.kind)).toEqual(
      expect.arrayContaining(['PROPOSAL', 'DECISION', 'REVIEW_DECISION', 'EXECUTION']),
    );
    const config = await call('rev-ana', 'GET', '/v1/console/config');
    expect(config.body.ledger.verifierKeys).toEqual([m.ledgerVerifierKey]);

    // The ledger view by record, bad queries, another tenant, no token.
    const byRecord = await call(
      'rev-ana',
      'GET',
      '/v1/tenants/acme/ledger/chain?objectType=lead&recordId=lead-0002',
    );
    expect(byRecord.status).toBe(200);
    expect(byRecord.body.entries.map((e: { recordId: string }) => e.recordId)).toEqual(
      expect.arrayContaining(
        trail.entries
          .filter((e: { subject?: { recordId: string } }) => e.subject?.recordId === 'lead-0002')
          .map((e: { recordId: string }) => e.recordId),
      ),
    );
    expect((await call('rev-ana', 'GET', '/v1/tenants/acme/ledger/chain')).status).toBe(400);
    expect(
      (await call('rev-ana', 'GET', '/v1/tenants/acme/ledger/chain?correlationId=a%20b')).status,
    ).toBe(400);
    expect(
      (await call('rev-ana', 'GET', '/v1/tenants/acme/ledger/chain?correlationId=x&recordId=y'))
        .status,
    ).toBe(400);
    expect((await call('rev-gus', 'GET', path(item.taskId, '/audit'))).status).toBe(403);
    expect((await call('rev-ana', 'GET', path('no-such-task', '/audit'))).status).toBe(404);
    expect((await call(undefined, 'GET', path(item.taskId, '/audit'))).status).toBe(401);
  });

  it('edits the demo discount down, re-checked by policy; four-eyes needs a second, different approver', async () => {
    const item = await taskOn('opp-demo-0001');
    expect(item).toMatchObject({
      team: 'deal-desk',
      skill: 'pricing',
      actionType: 'apply_discount',
      requiredApprovals: 2,
    });
    const detail = (await call('rev-ana', 'GET', path(item.taskId))).body;
    const fields = detail.proposal.action.fields;
    expect(fields.discountPercent).toBe(5);

    // A malformed edit (another action type) is refused and writes nothing.
    const wrongType = await call('rev-ana', 'POST', path(item.taskId, '/decision'), {
      outcome: 'EDIT_APPROVE',
      editedAction: { qualifyLead: { score: 90, reason: 'x' } },
    });
    expect(wrongType.status).toBe(400);

    const edited = await call('rev-ana', 'POST', path(item.taskId, '/decision'), {
      outcome: 'EDIT_APPROVE',
      reasonCode: 'SMALLER_DISCOUNT',
      editedAction: { applyDiscount: { ...fields, discountPercent: 4 } },
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      status: 'OPEN',
      effect: 'pending-approvals',
      requiredApprovals: 2,
      approvedBy: ['rev-ana'],
    });
    expect(edited.body.recheckVerdict).toMatch(/^APPROVE_/);
    // The same person cannot give the second approval.
    const self = await call('rev-ana', 'POST', path(item.taskId, '/decision'), {
      outcome: 'APPROVE',
    });
    expect([403, 409]).toContain(self.status);
    // The deal desk's owner (a supervisor, who works every queue) is not a second pair of eyes.
    const owner = await call('sup-cleo', 'POST', path(item.taskId, '/decision'), {
      outcome: 'APPROVE',
    });
    expect(owner.status).toBe(403);
    expect(owner.body).toMatchObject({ code: 'FOUR_EYES_VIOLATION', reason: 'AGENT_OWNER' });
    const view = (await call('rev-ben', 'GET', path(item.taskId))).body;
    expect(view.proposal.action.fields.discountPercent).toBe(4);

    const second = await call('rev-ben', 'POST', path(item.taskId, '/decision'), {
      outcome: 'APPROVE',
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ status: 'APPROVED', effect: 'approved' });
    expect([...second.body.approvedBy].sort()).toEqual(['rev-ana', 'rev-ben']);
    const opp = await waitFor('the edited discount to be executed', async () => {
      const o = await m.crm.get(DEMO_TENANT, 'opp-demo-0001');
      return o?.appliedActions.length ? o : undefined;
    });
    expect(opp.fields['discountPercent']).toBe(4);
  });

  it('serves reviewer analytics to supervisors and auditors, not reviewers', async () => {
    expect((await call('rev-ana', 'GET', '/v1/tenants/acme/review/analytics')).status).toBe(403);
    const report = await call('sup-cleo', 'GET', '/v1/tenants/acme/review/analytics');
    expect(report.status).toBe(200);
    const ana = report.body.reviewers.find(
      (r: { reviewerId: string }) => r.reviewerId === 'rev-ana',
    );
    expect(ana).toMatchObject({ decisions: 2, edits: 1 });
    expect((await call('aud-dan', 'GET', '/v1/tenants/acme/review/analytics')).status).toBe(200);
  });

  it('applies a review decision published by someone else (the duplicate above was really consumed and ignored)', async () => {
    const item = await taskOn('case-0006');
    const reject = ReviewDecision.fromPartial({
      reviewDecisionId: 'external-reject-1',
      taskId: item.taskId,
      tenantId: DEMO_TENANT,
      correlationId: 'demo-service-triage',
      reviewerId: 'rev-ben',
      outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
      reasonCode: 'WRONG_FIELD',
      decidedAt: new Date().toISOString(),
    });
    await m.runtime.bus.publish(Topics.reviewDecisions, reject, {
      tenantId: DEMO_TENANT,
      correlationId: 'demo-service-triage',
      source: 'other-console',
      id: 'external-reject-1',
    });
    const closed = await waitFor('the external rejection', async () => {
      const d = (await call('rev-ana', 'GET', path(item.taskId))).body;
      return d.status === 'REJECTED' ? d : undefined;
    });
    expect(closed.reviews).toEqual([
      expect.objectContaining({
        reviewerId: 'rev-ben',
        outcome: 'REJECT',
        reasonCode: 'WRONG_FIELD',
      }),
    ]);
  });
});
