import { AuditKind, PlanHandOff, type AuditRecord } from '@mandate/contracts';
import { DEMO_DATASET, DEMO_SCENARIOS } from '@mandate/connectors-domain';
import { Topics } from '@mandate/messaging';
import { handoffIdOf, PLANS } from '@mandate/orchestrator-domain';
import { createLogger } from '@mandate/platform';
import { HandOffQueue, type OpenResult } from '@mandate/review-domain';
import { DEMO_TENANT, EmbeddedMandate, startEmbedded } from './embedded';
import { waitFor } from './testing/wait-for';

/**
 * Agents' hand-offs in the human review queue, on the embedded process: a customer writes "it
 * is still not working" without saying which of her two open cases she means; service triage
 * will not guess, and hands the email off with both cases as candidates. The hand-off reaches
 * human review (plan-handoffs topic) and waits in acme's hand-off queue, where a reviewer takes it
 * over and resolves it; every step is in the ledger under the email's correlation id.
 */

interface Res {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

const [ACCOUNT, SENDER, CASE_A, CASE_B] = DEMO_SCENARIOS.twoOpenCases;
const CORRELATION = 'handoff-still-not-working';

describe('agents’ hand-offs in the review queue (embedded)', () => {
  let m: EmbeddedMandate;
  const tokens = new Map<string, string>();
  const stamp = Date.now().toString(36);
  const emailId = `act-handoff-${stamp}`;
  let handoffId = '';

  const call = async (
    who: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Res> => {
    const res = await fetch(`http://127.0.0.1:${m.httpPort}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${tokens.get(who)}`,
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const path = (id: string, suffix = '', tenant = 'acme') =>
    `/v1/tenants/${tenant}/review/handoffs/${id}${suffix}`;
  const list = (who: string, tenant = 'acme', query = '') =>
    call(who, 'GET', `/v1/tenants/${tenant}/review/handoffs${query}`);
  const handOffRecords = async (): Promise<AuditRecord[]> =>
    (await m.ledger.byCorrelation(DEMO_TENANT, CORRELATION))
      .map((e) => e.record!)
      .filter((r) => r.kind === AuditKind.AUDIT_KIND_HANDOFF_TASK);

  beforeAll(async () => {
    m = await startEmbedded({
      logger: createLogger('mandate-test', 'silent'),
      httpPort: 0,
      grpcPort: 0,
      reviewSweepIntervalMs: 0,
    });
    for (const sub of ['rev-ana', 'rev-ben', 'sup-cleo', 'aud-dan', 'rev-gus']) {
      const res = await fetch(`http://127.0.0.1:${m.httpPort}/v1/dev/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sub }),
      });
      expect(res.status).toBe(200);
      tokens.set(sub, ((await res.json()) as { token: string }).token);
    }
    const sender = DEMO_DATASET.find((r) => r.id === SENDER)!;
    const { created } = await m.crm.create(
      DEMO_TENANT,
      'activity',
      emailId,
      {
        kind: 'inbound_email',
        relatedType: 'contact',
        relatedId: SENDER,
        subject: 'Still not working',
        body: 'Hi, it is still not working this morning and the team is blocked. Can someone look at it today?',
        fromAddress: String(sender.fields['email']),
        occurredAt: new Date().toISOString(),
      },
      CORRELATION,
    );
    expect(created).toBe(true);
    const item = await waitFor(
      'the hand-off in the review queue',
      async () => {
        const res = await list('rev-ana');
        return res.body?.items?.find(
          (i: { target: { recordId: string } }) => i.target.recordId === emailId,
        );
      },
      20_000,
    );
    handoffId = item.handoffId;
  }, 60_000);

  afterAll(async () => {
    await m.close();
  });

  it("puts the agent's hand-off in acme's queue with its reason and candidates, once", async () => {
    const plans = await m.runtime.stores.store(PLANS);
    const [plan] = await plans.find(DEMO_TENANT, { correlationId: CORRELATION });
    expect(plan.status).toBe('handed-off');
    expect(handoffId).toBe(handoffIdOf(DEMO_TENANT, plan.id));
    expect(plan.handoff?.handoffId).toBe(handoffId);

    const detail = await call('rev-ana', 'GET', path(handoffId));
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      handoffId,
      tenantId: 'acme',
      status: 'OPEN',
      team: 'general',
      planId: plan.id,
      correlationId: CORRELATION,
      agentId: 'service-triage',
      objective: 'triage an inbound email',
      target: { objectType: 'activity', recordId: emailId },
      reason: plan.handoff!.reason,
      steps: [],
      history: [{ event: 'opened', actor: 'human-review' }],
    });
    // Her two open cases, and any other open case of her account: the agent picks none.
    const candidates: string[] = detail.body.candidates;
    expect(candidates).toEqual(expect.arrayContaining([CASE_A, CASE_B]));
    const accountCases = DEMO_DATASET.filter(
      (r) => r.objectType === 'case' && r.fields['accountId'] === ACCOUNT,
    ).map((r) => r.id);
    for (const c of candidates) expect(accountCases).toContain(c);
    expect(detail.body.reason).toMatch(
      new RegExp(`^hand_off: .*could refer to ${candidates.length} open cases`),
    );
    expect(detail.body.assigneeId).toBeUndefined();
    expect(detail.body.resolution).toBeUndefined();
    expect(Date.parse(detail.body.handedOffAt)).toBeLessThanOrEqual(Date.now());
    // No personal data of the sender travels with it.
    const sender = DEMO_DATASET.find((r) => r.id === SENDER)!;
    expect(JSON.stringify(detail.body)).not.toContain(String(sender.fields['email']));
    expect(JSON.stringify(detail.body)).not.toContain(String(sender.fields['name']));

    // The message on the bus, delivered again (a redelivery): nothing new is opened.
    const [record] = m.runtime.broker
      .records(Topics.planHandOffs.name)
      .filter((r) => r.headers['ce_correlationid'] === CORRELATION);
    expect(record.key).toBe(`acme/plan/${plan.id}`);
    const message = Topics.planHandOffs.codec.decode(record.value!);
    expect(message).toMatchObject({ handoffId, candidates: detail.body.candidates });
    // Watch human-review's queue: the consumer must hand the redelivered message to it.
    const open = jest.spyOn(HandOffQueue.prototype, 'open');
    try {
      await m.runtime.bus.publish(Topics.planHandOffs, PlanHandOff.fromPartial(message), {
        tenantId: DEMO_TENANT,
        correlationId: CORRELATION,
        source: 'orchestrator',
        id: `redelivered-${handoffId}`,
      });
      const again = m.runtime.broker
        .records(Topics.planHandOffs.name)
        .find((r) => r.headers['ce_id'] === `redelivered-${handoffId}`)!;
      // human-review's consumer group settled the redelivered record (its offset committed past
      // it) without dead-lettering it ...
      await waitFor('human-review to settle the redelivered hand-off', async () =>
        (m.runtime.broker.committed(
          'mandate.human-review',
          Topics.planHandOffs.name,
          again.partition,
        ) ?? 0) > Number(again.offset)
          ? true
          : undefined,
      );
      // ... after its queue found the task by the hand-off id and wrote nothing (a duplicate).
      const calls = open.mock.calls
        .map(([msg], i) => ({ msg, result: open.mock.results[i] }))
        .filter(({ msg }) => msg.handoffId === handoffId);
      expect(calls).toHaveLength(1);
      expect(calls[0].result.type).toBe('return');
      const result: OpenResult = await calls[0].result.value;
      expect(result.opened).toBe(false);
      expect(result.task).toMatchObject({ handoffId, status: 'OPEN' });
    } finally {
      open.mockRestore();
    }
    expect(m.runtime.broker.records(Topics.planHandOffs.deadLetter)).toEqual([]);
    expect((await call('rev-ana', 'GET', path(handoffId))).body.updatedAt).toBe(
      detail.body.updatedAt,
    );
    const items = (await list('rev-ben')).body.items.filter(
      (i: { target: { recordId: string } }) => i.target.recordId === emailId,
    );
    expect(items).toHaveLength(1);
    const opened = await waitFor('the opening in the ledger', async () => {
      const records = await handOffRecords();
      return records.length ? records : undefined;
    });
    expect(opened.map((r) => [r.actor, r.attributes['event']])).toEqual([
      ['human-review', 'opened'],
    ]);
    expect(opened[0].attributes['candidates'].split(',').sort()).toEqual([...candidates].sort());
  });

  it('shows another tenant nothing of it', async () => {
    expect((await list('rev-gus')).status).toBe(403);
    expect((await call('rev-gus', 'GET', path(handoffId))).status).toBe(403);
    expect((await call('rev-gus', 'POST', path(handoffId, '/claim'))).status).toBe(403);
    expect(
      (await call('rev-gus', 'POST', path(handoffId, '/resolve'), { outcome: 'DONE' })).status,
    ).toBe(403);
    // Through its own tenant's path the hand-off does not exist; its own queue is empty.
    const viaGlobex = await call('rev-gus', 'GET', path(handoffId, '', 'globex'));
    expect(viaGlobex.status).toBe(404);
    expect(viaGlobex.body.code).toBe('HANDOFF_NOT_FOUND');
    expect((await call('rev-gus', 'POST', path(handoffId, '/claim', 'globex'))).status).toBe(404);
    const own = await list('rev-gus', 'globex');
    expect(own.status).toBe(200);
    expect(own.body.items).toEqual([]);
  });

  it('lets an auditor read it but never claim or resolve it', async () => {
    expect((await list('aud-dan')).status).toBe(200);
    expect((await call('aud-dan', 'GET', path(handoffId))).status).toBe(200);
    expect((await call('aud-dan', 'POST', path(handoffId, '/claim'))).status).toBe(403);
    expect((await call('aud-dan', 'POST', path(handoffId, '/release'))).status).toBe(403);
    const resolve = await call('aud-dan', 'POST', path(handoffId, '/resolve'), {
      outcome: 'DISMISSED',
    });
    expect(resolve.status).toBe(403);
    expect((await call('rev-ana', 'GET', path(handoffId))).body.status).toBe('OPEN');
  });

  it('lets exactly one of two concurrent claims win; the loser can neither resolve nor release it', async () => {
    const [a, b] = await Promise.all([
      call('rev-ana', 'POST', path(handoffId, '/claim')),
      call('rev-ben', 'POST', path(handoffId, '/claim')),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const [won, lost] = a.status === 200 ? [a, b] : [b, a];
    const [winner, loser] = a.status === 200 ? ['rev-ana', 'rev-ben'] : ['rev-ben', 'rev-ana'];
    expect(won.body).toMatchObject({ status: 'CLAIMED', assigneeId: winner });
    expect(lost.body.code).toBe('HANDOFF_ALREADY_CLAIMED');
    const resolve = await call(loser, 'POST', path(handoffId, '/resolve'), { outcome: 'DONE' });
    expect(resolve.status).toBe(409);
    const release = await call(loser, 'POST', path(handoffId, '/release'));
    expect(release.status).toBe(403);
    // The supervisor may give it back to the queue.
    const back = await call('sup-cleo', 'POST', path(handoffId, '/release'));
    expect(back.status).toBe(200);
    expect(back.body.status).toBe('OPEN');
    expect(back.body.history.at(-1)).toMatchObject({
      event: 'released',
      actor: 'sup-cleo',
      previousAssignee: winner,
    });
    const claims = (await handOffRecords()).filter((r) => r.attributes['event'] === 'claimed');
    expect(claims.map((r) => r.actor)).toEqual([winner]);
  });

  it('resolves it exactly once, with the reviewer in the ledger', async () => {
    expect((await call('rev-ben', 'POST', path(handoffId, '/claim'))).status).toBe(200);
    const body = { outcome: 'DONE', note: 'Asked the customer which case; merged into case-0001.' };
    const headers = { 'idempotency-key': 'resolve-click-1' };
    const [first, second] = await Promise.all([
      call('rev-ben', 'POST', path(handoffId, '/resolve'), body, headers),
      call('rev-ben', 'POST', path(handoffId, '/resolve'), body, headers),
    ]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect([first.body.duplicate, second.body.duplicate].sort()).toEqual([false, true]);
    for (const r of [first, second])
      expect(r.body).toMatchObject({
        handoffId,
        status: 'DONE',
        resolution: { outcome: 'DONE', reviewerId: 'rev-ben', note: body.note },
      });
    expect(first.body.resolution.resolutionId).toBe(second.body.resolution.resolutionId);
    expect(first.body.assigneeId).toBeUndefined();
    // Another resolution is refused: it is closed.
    const again = await call('rev-ben', 'POST', path(handoffId, '/resolve'), {
      outcome: 'DISMISSED',
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('HANDOFF_CLOSED');
    expect((await call('rev-ana', 'POST', path(handoffId, '/claim'))).status).toBe(409);

    // Out of the open queue, in the resolved one.
    const open = (await list('rev-ana')).body.items.map((i: { handoffId: string }) => i.handoffId);
    expect(open).not.toContain(handoffId);
    const done = await list('rev-ana', 'acme', '?status=DONE,DISMISSED');
    expect(done.body.items.map((i: { handoffId: string }) => i.handoffId)).toEqual([handoffId]);
    expect((await list('rev-ana', 'acme', '?status=APPROVED')).status).toBe(400);

    const resolved = await waitFor('the resolution in the ledger', async () => {
      const r = (await handOffRecords()).filter((x) => x.attributes['event'] === 'resolved');
      return r.length ? r : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    const all = (await handOffRecords()).filter((x) => x.attributes['event'] === 'resolved');
    expect(all).toHaveLength(1);
    expect(resolved[0]).toMatchObject({
      actor: 'rev-ben',
      subject: { objectType: 'activity', recordId: emailId },
    });
    expect(resolved[0].attributes).toMatchObject({
      handoffId,
      outcome: 'DONE',
      resolutionId: first.body.resolution.resolutionId,
      status: 'DONE',
      hasNote: 'true',
    });
    // The note stays in the task, out of the ledger.
    expect(resolved[0].summary).not.toContain('merged');
  });
});
