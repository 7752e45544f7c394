import { AuditKind, ReviewTaskStatus, Verdict } from '@mandate/contracts';
import {
  InvalidDecisionError,
  NotAuthorisedError,
  NotEligibleError,
  TaskAlreadyClaimedError,
  TaskNotFoundError,
} from './errors';
import {
  ACME,
  DEFAULT_TEST_CONFIG,
  discount,
  email,
  GLOBEX,
  harness,
  HOUR,
  MIN,
  qualify,
} from './testing/fixtures';

describe('ReviewQueue', () => {
  describe('list', () => {
    async function seeded() {
      const h = harness();
      await h.open('a', { action: discount(10), riskBand: 'low' }); // deal-desk/pricing, due +4h
      h.clock.advance(MIN);
      await h.open('b', { action: qualify(), riskBand: 'medium' }); // general
      h.clock.advance(MIN);
      await h.open('c', { action: email('hello'), riskBand: 'high' }); // general
      h.clock.advance(MIN);
      await h.open('d', {
        action: discount(20),
        verdict: Verdict.VERDICT_APPROVE_2,
        riskBand: 'high',
      });
      return h;
    }

    it("lists a tenant's open tasks by due time, filtered by team, skill, action type and risk band", async () => {
      const h = await seeded();
      const all = await h.queue.list(ACME);
      expect(all.items.map((i) => i.taskId)).toEqual(['task-a', 'task-b', 'task-c', 'task-d']);
      expect(all.next).toBeUndefined();
      const deal = await h.queue.list(ACME, { team: 'deal-desk' });
      expect(deal.items.map((i) => i.taskId)).toEqual(['task-a', 'task-d']);
      expect(
        (await h.queue.list(ACME, { skill: 'pricing', riskBand: 'high' })).items.map(
          (i) => i.taskId,
        ),
      ).toEqual(['task-d']);
      expect((await h.queue.list(ACME, { actionType: 'send_email' })).items[0]).toEqual(
        expect.objectContaining({
          taskId: 'task-c',
          team: 'general',
          skill: '',
          riskBand: 'high',
          tier: 0,
          status: 'OPEN',
          requiredApprovals: 1,
          approvedBy: [],
        }),
      );
      expect(
        (await h.queue.list(ACME, { team: 'deal-desk' })).items[1].task.requiredApprovals,
      ).toBe(2);
    });

    it('filters by status and assignee', async () => {
      const h = await seeded();
      await h.queue.claim(ACME, 'task-b', 'dave');
      expect((await h.queue.list(ACME, { status: 'CLAIMED' })).items.map((i) => i.taskId)).toEqual([
        'task-b',
      ]);
      expect((await h.queue.list(ACME, { assigneeId: 'dave' })).items[0]).toEqual(
        expect.objectContaining({ taskId: 'task-b', assigneeId: 'dave', status: 'CLAIMED' }),
      );
      expect((await h.queue.list(ACME, { status: 'OPEN' })).items).toHaveLength(3);
      expect((await h.queue.list(ACME, { status: ['APPROVED', 'REJECTED'] })).items).toHaveLength(
        0,
      );
    });

    it('pages with a cursor, including through tasks due at the same instant', async () => {
      const h = harness();
      for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await h.open(id); // all due at the same time
      h.clock.advance(MIN);
      await h.open('p6');
      const seen: string[] = [];
      let after: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await h.queue.list(ACME, {}, { limit: 2, after });
        seen.push(...page.items.map((x) => x.taskId));
        after = page.next;
        if (!after) break;
      }
      expect(seen).toEqual(['task-p1', 'task-p2', 'task-p3', 'task-p4', 'task-p5', 'task-p6']);
      await expect(h.queue.list(ACME, {}, { after: 'garbage' })).rejects.toThrow(
        InvalidDecisionError,
      );
    });

    it("never shows another tenant's tasks", async () => {
      const h = harness();
      await h.open('x', { tenant: GLOBEX });
      await h.open('y');
      expect((await h.queue.list(ACME)).items.map((i) => i.taskId)).toEqual(['task-y']);
      expect((await h.queue.list(GLOBEX)).items.map((i) => i.taskId)).toEqual(['task-x']);
      await expect(h.queue.get(ACME, 'task-x')).rejects.toThrow(TaskNotFoundError);
    });
  });

  describe('claim and release', () => {
    it('claims exclusively: of two concurrent claims exactly one wins, the other gets TaskAlreadyClaimedError', async () => {
      const h = harness();
      const id = await h.open('race', { action: discount(10) });
      const results = await Promise.allSettled([
        h.queue.claim(ACME, id, 'alice'),
        h.queue.claim(ACME, id, 'bob'),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0].reason).toBeInstanceOf(TaskAlreadyClaimedError);
      const winner = (won[0] as PromiseFulfilledResult<{ assigneeId: string }>).value.assigneeId;
      expect(lost[0].reason.message).toContain(`claimed by ${winner}`);
      const doc = await h.doc(id);
      expect(doc).toEqual(expect.objectContaining({ status: 'CLAIMED', assigneeId: winner }));
      const e = await h.events();
      const claims = e.audits.filter((a) => a.attributes['event'] === 'claimed');
      expect(claims).toHaveLength(1);
      expect(claims[0].actor).toBe(winner);
      expect(e.tasks.at(-1)).toEqual(
        expect.objectContaining({
          status: ReviewTaskStatus.REVIEW_TASK_STATUS_CLAIMED,
          assigneeId: winner,
        }),
      );
    });

    it('many concurrent claimants: still exactly one winner', async () => {
      const h = harness();
      const id = await h.open('crowd', { action: qualify() });
      const who = ['alice', 'bob', 'bea', 'dave', 'olga'];
      const results = await Promise.allSettled(who.map((r) => h.queue.claim(ACME, id, r)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results)
        if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(TaskAlreadyClaimedError);
    });

    it("renews the claimant's lease, and lets another reviewer take over only once the lease expired", async () => {
      const h = harness({ config: { leaseMs: 10 * MIN } });
      const id = await h.open('lease', { action: qualify() });
      const first = await h.queue.claim(ACME, id, 'alice');
      expect(first).toEqual(
        expect.objectContaining({
          renewed: false,
          leaseUntil: new Date(h.clock.now().getTime() + 10 * MIN),
        }),
      );
      h.clock.advance(5 * MIN);
      const renewed = await h.queue.claim(ACME, id, 'alice');
      expect(renewed.renewed).toBe(true);
      h.clock.advance(9 * MIN);
      await expect(h.queue.claim(ACME, id, 'bob')).rejects.toThrow(TaskAlreadyClaimedError);
      h.clock.advance(2 * MIN); // alice vanished: her lease ran out
      const taken = await h.queue.claim(ACME, id, 'bob');
      expect(taken).toEqual(expect.objectContaining({ assigneeId: 'bob', renewed: false }));
      const e = await h.events();
      expect(
        e.audits.filter((a) => a.attributes['event'] === 'claimed').map((a) => a.summary),
      ).toEqual([
        expect.stringContaining('claimed by alice'),
        expect.stringContaining('the claim by alice had expired'),
      ]);
    });

    it('releases: the assignee or a supervisor may, others may not; releasing an unclaimed task is a no-op', async () => {
      const h = harness();
      const id = await h.open('rel', { action: qualify() });
      await h.queue.release(ACME, id, 'alice'); // nobody holds it
      expect((await h.doc(id)).version).toBe(1);
      await h.queue.claim(ACME, id, 'alice');
      await expect(h.queue.release(ACME, id, 'bob')).rejects.toThrow(NotAuthorisedError);
      await h.queue.release(ACME, id, 'alice');
      expect(await h.doc(id)).toEqual(expect.objectContaining({ status: 'OPEN' }));
      expect((await h.doc(id)).assigneeId).toBeUndefined();
      await h.queue.claim(ACME, id, 'bob');
      await h.queue.release(ACME, id, 'carol'); // supervisor
      expect((await h.doc(id)).status).toBe('OPEN');
      const released = (await h.events()).audits.filter(
        (a) => a.attributes['event'] === 'released',
      );
      expect(released.map((a) => a.actor)).toEqual(['alice', 'carol']);
      expect(released[1].summary).toContain('released by supervisor carol');
    });

    it('refuses claims by auditors, admins, inactive people, other tenants, and reviewers outside the queue', async () => {
      const h = harness();
      const id = await h.open('who', { action: discount(10) }); // deal-desk / pricing
      const refusal = async (r: string) =>
        h.queue.claim(ACME, id, r).then(
          () => 'claimed',
          (e) => e.reason ?? e.code,
        );
      expect(await refusal('aud')).toBe('AUDITOR');
      expect(await refusal('erin')).toBe('AUDITOR'); // reviewer AND auditor: still no
      expect(await refusal('adm')).toBe('ROLE');
      expect(await refusal('ivan')).toBe('INACTIVE');
      expect(await refusal('greta')).toBe('OTHER_TENANT');
      expect(await refusal('nobody')).toBe('UNKNOWN_REVIEWER');
      expect(await refusal('dave')).toBe('TEAM'); // general only
      expect(await refusal('carol')).toBe('claimed'); // supervisors work every queue
    });

    it('a reviewer in the team without the skill is not eligible', async () => {
      const h = harness({
        config: {
          routing: { rules: [{ actionType: 'apply_discount', team: 'general', skill: 'pricing' }] },
        },
      });
      const id = await h.open('skill', { action: discount(10) });
      await expect(h.queue.claim(ACME, id, 'dave')).rejects.toEqual(
        expect.objectContaining({ reason: 'SKILL' }),
      );
    });
  });

  describe('assignment', () => {
    it('assigns to the least-loaded eligible reviewer (ties by id), skipping the ineligible', async () => {
      const h = harness({
        reviewers: [
          {
            id: 'zed',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['reviewer'],
            active: true,
          },
          {
            id: 'amy',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['reviewer'],
            active: true,
          },
          {
            id: 'old',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['reviewer'],
            active: false,
          },
          {
            id: 'aud',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['auditor'],
            active: true,
          },
          {
            id: 'max',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['reviewer'],
            active: true,
            capacity: 0,
          },
        ],
      });
      const ids = [];
      for (const n of [1, 2, 3, 4]) ids.push(await h.open(`as${n}`, { action: qualify() }));
      const a1 = await h.queue.assign(ACME, ids[0]);
      const a2 = await h.queue.assign(ACME, ids[1]);
      const a3 = await h.queue.assign(ACME, ids[2]);
      expect([a1?.assigneeId, a2?.assigneeId, a3?.assigneeId]).toEqual(['amy', 'zed', 'amy']);
      expect(a3?.load).toBe(1);
      const audit = (await h.events()).audits.filter((a) => a.attributes['event'] === 'assigned');
      expect(audit.map((a) => a.actor)).toEqual([
        'system/assignment',
        'system/assignment',
        'system/assignment',
      ]);
      expect(audit[0].summary).toContain('assigned to amy');
    });

    it('does not count expired claims as load, and returns undefined when nobody qualifies', async () => {
      const h = harness({
        reviewers: [
          {
            id: 'amy',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['reviewer'],
            active: true,
          },
          {
            id: 'bo',
            tenantId: ACME,
            teams: ['general'],
            skills: [],
            roles: ['reviewer'],
            active: true,
          },
        ],
        config: { ...DEFAULT_TEST_CONFIG, leaseMs: 5 * MIN },
      });
      const t1 = await h.open('l1', { action: qualify() });
      const t2 = await h.open('l2', { action: qualify() });
      const t3 = await h.open('l3', { action: discount(5) }); // deal-desk: nobody there
      await h.queue.claim(ACME, t1, 'amy');
      h.clock.advance(6 * MIN); // amy's claim expired
      expect((await h.queue.assign(ACME, t2))?.assigneeId).toBe('amy');
      expect(await h.queue.assign(ACME, t3)).toBeUndefined();
    });

    it('never assigns a four-eyes task to the agent owner', async () => {
      const h = harness({
        reviewers: [
          {
            id: 'olga',
            tenantId: ACME,
            teams: ['deal-desk'],
            skills: ['pricing'],
            roles: ['reviewer'],
            active: true,
          },
          {
            id: 'pete',
            tenantId: ACME,
            teams: ['deal-desk'],
            skills: ['pricing'],
            roles: ['reviewer'],
            active: true,
          },
        ],
      });
      await h.open('busy', { action: discount(10) });
      await h.queue.claim(ACME, 'task-busy', 'pete'); // pete is busier
      const id = await h.open('fe', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
      expect((await h.queue.assign(ACME, id))?.assigneeId).toBe('pete');
    });
  });

  describe('comments', () => {
    it('appends comments with author and time, idempotently by id, never into the audit trail', async () => {
      const h = harness();
      const id = await h.open('cm', { action: qualify() });
      const c1 = await h.queue.comment(ACME, id, 'alice', '  Customer called, see ticket 42  ', {
        commentId: 'c1',
      });
      expect(c1).toEqual({
        id: 'c1',
        authorId: 'alice',
        at: h.clock.now(),
        text: 'Customer called, see ticket 42',
      });
      h.clock.advance(MIN);
      await h.queue.comment(ACME, id, 'alice', 'retry of the same request', { commentId: 'c1' });
      await h.queue.comment(ACME, id, 'carol', 'Looks fine');
      const doc = await h.doc(id);
      expect(doc.comments!.map((c) => [c.authorId, c.text])).toEqual([
        ['alice', 'Customer called, see ticket 42'],
        ['carol', 'Looks fine'],
      ]);
      const audits = (await h.events()).audits;
      expect(audits.every((a) => !a.summary.includes('ticket 42'))).toBe(true);
      expect(audits.filter((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_TASK)).toHaveLength(1); // the opening only
    });

    it('refuses empty or oversized comments and auditors', async () => {
      const h = harness({ config: { maxCommentChars: 10 } });
      const id = await h.open('cm2', { action: qualify() });
      await expect(h.queue.comment(ACME, id, 'alice', '   ')).rejects.toThrow(InvalidDecisionError);
      await expect(h.queue.comment(ACME, id, 'alice', 'x'.repeat(11))).rejects.toThrow(
        InvalidDecisionError,
      );
      await expect(h.queue.comment(ACME, id, 'aud', 'hi')).rejects.toThrow(NotAuthorisedError);
    });
  });

  it('reads tasks written before routing and timers existed (first-version documents)', async () => {
    const h = harness();
    const id = await h.open('legacy', { action: discount(10) });
    // strip the new fields, as a document written by the first opener
    const doc = await h.doc(id);
    await h.store.upsert(ACME, {
      id,
      status: 'OPEN',
      correlationId: doc.correlationId,
      requiredApprovals: 1,
      task: doc.task,
      createdAt: doc.createdAt,
      dueAt: doc.dueAt,
    });
    const item = await h.queue.get(ACME, id);
    expect(item).toEqual(
      expect.objectContaining({
        team: 'deal-desk',
        skill: 'pricing',
        actionType: 'apply_discount',
        tier: 0,
      }),
    );
    expect(item.warnAt).toEqual(new Date(doc.dueAt.getTime() - 30 * MIN));
    const claim = await h.queue.claim(ACME, id, 'alice');
    expect(claim.assigneeId).toBe('alice');
    expect(await h.doc(id)).toEqual(
      expect.objectContaining({ team: 'deal-desk', reviews: [], nextTimerAt: expect.any(Date) }),
    );
    expect(HOUR).toBeGreaterThan(0);
  });

  it('refuses an ineligible reviewer with NotEligibleError', async () => {
    const h = harness();
    const id = await h.open('ne', { action: discount(10) });
    await expect(h.queue.claim(ACME, id, 'dave')).rejects.toThrow(NotEligibleError);
  });
});
