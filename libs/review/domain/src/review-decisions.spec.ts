import {
  AuditKind,
  ReviewDecision,
  ReviewOutcome,
  ReviewTaskStatus,
  Verdict,
} from '@mandate/contracts';
import {
  InvalidDecisionError,
  NotAuthorisedError,
  PolicyRecheckError,
  PolicyUnavailableError,
  TaskAlreadyClaimedError,
  TaskClosedError,
  TaskExpiredError,
  TaskNotFoundError,
} from './errors';
import { ReviewDecisions } from './review-decisions';
import { ReviewTaskOpener } from './review-task.opener';
import {
  ACME,
  decisionFor,
  discount,
  email,
  GLOBEX,
  harness,
  HOUR,
  MIN,
  qualify,
} from './testing/fixtures';

describe('ReviewDecisions', () => {
  describe('approve', () => {
    it('approves an APPROVE_1 task: re-checked by policy, the token-carrying decision and the review published together, audited', async () => {
      const h = harness();
      const id = await h.open('a1', { action: discount(12) });
      await h.queue.claim(ACME, id, 'alice');
      h.clock.advance(3 * MIN);
      const r = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'APPROVE',
        reviewDecisionId: 'rd-1',
      });
      expect(r).toEqual(
        expect.objectContaining({
          taskId: id,
          status: 'APPROVED',
          effect: 'approved',
          duplicate: false,
          requiredApprovals: 1,
          approvedBy: ['alice'],
        }),
      );
      // policy saw the decision that opened the task and the review
      expect(h.policy.calls).toHaveLength(1);
      expect(h.policy.calls[0].decision.decisionId).toBe('a1');
      expect(h.policy.calls[0].reviews.map((x) => x.reviewDecisionId)).toEqual(['rd-1']);
      const e = await h.events();
      expect(e.reviewDecisions).toEqual([
        expect.objectContaining({
          reviewDecisionId: 'rd-1',
          taskId: id,
          tenantId: 'acme',
          reviewerId: 'alice',
          outcome: ReviewOutcome.REVIEW_OUTCOME_APPROVE,
          reasonCode: 'APPROVED',
          proposalId: 'p-a1',
          decisionId: 'a1',
          decidedAt: h.clock.now().toISOString(),
        }),
      ]);
      expect(e.policyDecisions).toHaveLength(1);
      expect(e.policyDecisions[0].token?.approvals.map((a) => a.reviewerId)).toEqual(['alice']);
      expect(e.policyDecisions[0].token?.approvals[0].reviewDecisionId).toBe('rd-1');
      const audit = e.audits.filter((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION);
      expect(audit).toHaveLength(1);
      expect(audit[0].actor).toBe('alice');
      expect(audit[0].summary).toMatch(
        /alice approved; policy re-check: APPROVE_1 .* released for execution/,
      );
      expect(audit[0].attributes).toEqual(
        expect.objectContaining({
          outcome: 'APPROVE',
          effect: 'approved',
          status: 'APPROVED',
          recheckVerdict: 'APPROVE_1',
        }),
      );
      expect(e.tasks.at(-1)?.status).toBe(ReviewTaskStatus.REVIEW_TASK_STATUS_APPROVED);
      const doc = await h.doc(id);
      expect(doc).toEqual(expect.objectContaining({ status: 'APPROVED', closeReason: 'APPROVED' }));
      expect(doc.assigneeId).toBeUndefined();
      expect(doc.nextTimerAt).toBeUndefined(); // no SLA timers on a closed task
      expect(doc.reviews![0]).toEqual(
        expect.objectContaining({
          startedFrom: 'claim',
          startedAt: new Date(h.clock.now().getTime() - 3 * MIN),
        }),
      );
    });

    it('lets an eligible reviewer decide without claiming (decision time then runs from the opening)', async () => {
      const h = harness();
      const id = await h.open('a2', { action: qualify() });
      h.clock.advance(MIN);
      await h.decisions.decide(ACME, id, 'dave', { outcome: 'APPROVE' });
      expect((await h.doc(id)).reviews![0]).toEqual(
        expect.objectContaining({ startedFrom: 'open' }),
      );
    });

    it('refuses a decision while someone else holds the claim', async () => {
      const h = harness();
      const id = await h.open('a3', { action: qualify() });
      await h.queue.claim(ACME, id, 'bob');
      await expect(h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).rejects.toThrow(
        TaskAlreadyClaimedError,
      );
      h.clock.advance(16 * MIN); // bob's lease ran out
      expect((await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).effect).toBe(
        'approved',
      );
    });
  });

  describe('reject', () => {
    it('needs a reason code in UPPER_SNAKE_CASE', async () => {
      const h = harness();
      const id = await h.open('r1', { action: qualify() });
      await expect(
        h.decisions.decide(ACME, id, 'alice', { outcome: 'REJECT' } as never),
      ).rejects.toThrow(/needs a reason code/);
      await expect(
        h.decisions.decide(ACME, id, 'alice', { outcome: 'REJECT', reasonCode: 'wrong amount' }),
      ).rejects.toThrow(InvalidDecisionError);
      await expect(
        h.decisions.decide(ACME, id, 'alice', {
          outcome: 'REJECT',
          reasonCode: 'WRONG',
          comment: 'x'.repeat(4001),
        }),
      ).rejects.toThrow(/at most 4000 characters/);
      expect((await h.doc(id)).version).toBe(1);
    });

    it('rejects without asking policy and publishes the rejection (the orchestrator adapts, trust learns)', async () => {
      const h = harness();
      const id = await h.open('r2', { action: discount(12) });
      const r = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'REJECT',
        reasonCode: 'WRONG_AMOUNT',
        comment: 'Customer Jane Doe is not eligible',
      });
      expect(r).toEqual(expect.objectContaining({ status: 'REJECTED', effect: 'rejected' }));
      expect(h.policy.calls).toHaveLength(0);
      const e = await h.events();
      expect(e.policyDecisions).toHaveLength(0);
      expect(e.reviewDecisions[0]).toEqual(
        expect.objectContaining({
          outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
          reasonCode: 'WRONG_AMOUNT',
        }),
      );
      // the comment travels with the decision and is kept on the task, never in the audit trail
      expect(e.reviewDecisions[0].comment).toBe('Customer Jane Doe is not eligible');
      const audit = e.audits.find((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION)!;
      expect(audit.summary).toBe(
        'alice rejected (WRONG_AMOUNT) — task rejected, the action is not executed',
      );
      expect(ReviewDecision.decode(audit.payload).comment).toBe('');
      expect(audit.attributes['hasComment']).toBe('true');
      expect((await h.doc(id)).comments).toEqual([
        expect.objectContaining({ authorId: 'alice', text: 'Customer Jane Doe is not eligible' }),
      ]);
    });
  });

  describe('authorisation', () => {
    it('only reviewers and supervisors of the task tenant decide; never auditors', async () => {
      const h = harness();
      const id = await h.open('z1', { action: qualify() });
      const reason = (who: string) =>
        h.decisions.decide(ACME, id, who, { outcome: 'APPROVE' }).then(
          () => 'decided',
          (e) => e.reason ?? e.code,
        );
      expect(await reason('aud')).toBe('AUDITOR');
      expect(await reason('erin')).toBe('AUDITOR');
      expect(await reason('adm')).toBe('ROLE');
      expect(await reason('ivan')).toBe('INACTIVE');
      expect(await reason('greta')).toBe('OTHER_TENANT');
      expect((await h.events()).reviewDecisions).toHaveLength(0);
      expect(await reason('carol')).toBe('decided'); // supervisor
    });

    it("does not reveal another tenant's task", async () => {
      const h = harness();
      const id = await h.open('z2', { tenant: GLOBEX, action: qualify() });
      await expect(h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).rejects.toThrow(
        TaskNotFoundError,
      );
      await expect(h.decisions.decide(GLOBEX, id, 'alice', { outcome: 'APPROVE' })).rejects.toThrow(
        NotAuthorisedError,
      );
    });
  });

  describe('edit then approve', () => {
    it('honours a DENY from the re-check of the edited action: the task is rejected with the policy reasons', async () => {
      const h = harness();
      const id = await h.open('e1', { action: discount(12) });
      const r = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'EDIT_APPROVE',
        editedAction: discount(40),
        reviewDecisionId: 'rd-e1',
      });
      expect(r).toEqual(
        expect.objectContaining({
          status: 'REJECTED',
          effect: 'denied-by-policy',
          reasons: ['DISCOUNT_ABOVE_CEILING'],
        }),
      );
      expect(h.policy.calls[0].reviews[0].editedAction).toEqual(discount(40));
      const e = await h.events();
      expect(e.policyDecisions).toEqual([
        expect.objectContaining({ verdict: Verdict.VERDICT_DENY }),
      ]);
      expect(e.policyDecisions[0].token).toBeUndefined();
      expect(e.reviewDecisions[0]).toEqual(
        expect.objectContaining({
          outcome: ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE,
          editedAction: discount(40),
        }),
      );
      const audit = e.audits.find((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION)!;
      expect(audit.summary).toContain(
        'policy re-check: DENY (DISCOUNT_ABOVE_CEILING) — task rejected by policy',
      );
      expect(await h.doc(id)).toEqual(
        expect.objectContaining({
          closeReason: 'POLICY_DENIED',
          closeReasons: ['DISCOUNT_ABOVE_CEILING'],
        }),
      );
    });

    it('honours a re-check that needs more approvals: the task stays open with the edit recorded, then needs a second, different approver', async () => {
      const h = harness();
      const id = await h.open('e2', { action: discount(12) }); // APPROVE_1
      await h.queue.claim(ACME, id, 'alice');
      const first = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'EDIT_APPROVE',
        editedAction: discount(20), // policy: APPROVE_2
      });
      expect(first).toEqual(
        expect.objectContaining({
          status: 'OPEN',
          effect: 'pending-approvals',
          requiredApprovals: 2,
          approvedBy: ['alice'],
        }),
      );
      expect(first.recheck?.verdict).toBe(Verdict.VERDICT_APPROVE_2);
      let e = await h.events();
      expect(e.policyDecisions).toHaveLength(0); // nothing executable yet
      expect(e.reviewDecisions).toHaveLength(1);
      const doc = await h.doc(id);
      expect(doc).toEqual(expect.objectContaining({ status: 'OPEN', requiredApprovals: 2 }));
      expect(doc.assigneeId).toBeUndefined(); // back in the queue for the next approver
      expect(e.tasks.at(-1)?.approvals.map((a) => a.reviewerId)).toEqual(['alice']);
      // now four-eyes applies: the agent owner may not be the second approver
      await expect(
        h.decisions.decide(ACME, id, 'olga', { outcome: 'APPROVE' }),
      ).rejects.toMatchObject({
        reason: 'AGENT_OWNER',
      });
      const second = await h.decisions.decide(ACME, id, 'bob', { outcome: 'APPROVE' });
      expect(second).toEqual(
        expect.objectContaining({
          status: 'APPROVED',
          effect: 'approved',
          approvedBy: ['alice', 'bob'],
        }),
      );
      e = await h.events();
      expect(e.policyDecisions).toHaveLength(1);
      const executed = e.policyDecisions[0];
      expect(executed.proposal?.action).toEqual(discount(20)); // the edited action is what executes
      expect(executed.token?.approvals.map((a) => a.reviewerId)).toEqual(['alice', 'bob']);
      expect(executed.token?.requiredApprovals).toBe(2);
    });

    it('an edit makes a new version: approvals of the previous version no longer count', async () => {
      const h = harness();
      const id = await h.open('e3', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
      await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' });
      // bob edits: his edit is the only approval of the new version
      const edit = await h.decisions.decide(ACME, id, 'bob', {
        outcome: 'EDIT_APPROVE',
        editedAction: discount(18),
      });
      expect(edit).toEqual(
        expect.objectContaining({ effect: 'pending-approvals', approvedBy: ['bob'] }),
      );
      // alice may approve the new version
      const done = await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' });
      expect(done.effect).toBe('approved');
      expect(done.recheck?.token?.approvals.map((a) => a.reviewerId)).toEqual(['bob', 'alice']);
    });

    it('refuses an edit into another action type, an edit without an action, and edits of post-hoc reviews', async () => {
      const h = harness();
      const id = await h.open('e4', { action: discount(12) });
      await expect(
        h.decisions.decide(ACME, id, 'alice', {
          outcome: 'EDIT_APPROVE',
          editedAction: email('hi'),
        }),
      ).rejects.toThrow(/not make it a send_email action/);
      await expect(
        h.decisions.decide(ACME, id, 'alice', {
          outcome: 'EDIT_APPROVE',
          editedAction: {} as never,
        }),
      ).rejects.toThrow(/needs the edited action/);
      expect(h.policy.calls).toHaveLength(0);
    });
  });

  describe('idempotency', () => {
    it('a repeated decision (same review_decision_id) changes nothing and answers the same', async () => {
      const h = harness();
      const id = await h.open('i1', { action: discount(12) });
      const first = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'APPROVE',
        reviewDecisionId: 'rd-i1',
      });
      const before = await h.events();
      const version = (await h.doc(id)).version;
      const again = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'APPROVE',
        reviewDecisionId: 'rd-i1',
      });
      expect(again).toEqual(
        expect.objectContaining({ duplicate: true, effect: 'approved', status: 'APPROVED' }),
      );
      expect(again.review).toEqual(first.review);
      expect(again.recheck?.decisionId).toBe(first.recheck?.decisionId);
      expect((await h.doc(id)).version).toBe(version);
      expect((await h.events()).entries).toHaveLength(before.entries.length);
      expect(h.policy.calls).toHaveLength(1);
      // a new decision on the closed task is refused
      await expect(h.decisions.decide(ACME, id, 'bob', { outcome: 'APPROVE' })).rejects.toThrow(
        TaskClosedError,
      );
    });

    it('concurrent duplicates: recorded once', async () => {
      const h = harness();
      const id = await h.open('i2', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
      const rs = await Promise.all([
        h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE', reviewDecisionId: 'rd-i2' }),
        h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE', reviewDecisionId: 'rd-i2' }),
      ]);
      expect(rs.map((r) => r.duplicate).sort()).toEqual([false, true]);
      expect((await h.doc(id)).reviews).toHaveLength(1);
      expect((await h.events()).reviewDecisions).toHaveLength(1);
    });

    it('a redelivered decision message is applied once', async () => {
      const h = harness();
      const id = await h.open('i3', { action: qualify() });
      const msg = ReviewDecision.fromPartial({
        reviewDecisionId: 'msg-1',
        taskId: id,
        tenantId: 'acme',
        reviewerId: 'dave',
        outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
        reasonCode: 'NOT_NEEDED',
      });
      const a = await h.decisions.applyReviewDecision(msg);
      const b = await h.decisions.applyReviewDecision(msg);
      expect([a.duplicate, b.duplicate]).toEqual([false, true]);
      expect((await h.events()).reviewDecisions.map((r) => r.reviewDecisionId)).toEqual(['msg-1']);
      await expect(
        h.decisions.applyReviewDecision({ ...msg, reviewDecisionId: '' }),
      ).rejects.toThrow(InvalidDecisionError);
    });

    it('refuses a review_decision_id replayed by someone else', async () => {
      const h = harness();
      const id = await h.open('i4', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
      await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'APPROVE',
        reviewDecisionId: 'rd-i4',
      });
      await expect(
        h.decisions.decide(ACME, id, 'bob', { outcome: 'APPROVE', reviewDecisionId: 'rd-i4' }),
      ).rejects.toThrow(/made by someone else/);
    });
  });

  describe('fail closed', () => {
    it('writes nothing when policy cannot be reached', async () => {
      const h = harness();
      const id = await h.open('f1', { action: discount(12) });
      h.policy.failWith = new Error('policy unavailable');
      const attempt = h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' });
      await expect(attempt).rejects.toThrow(PolicyUnavailableError);
      await expect(attempt).rejects.toThrow('policy unavailable');
      expect((await h.doc(id)).version).toBe(1);
      expect((await h.events()).reviewDecisions).toHaveLength(0);
    });

    it('refuses a re-check answered for another tenant or proposal', async () => {
      const h = harness();
      const id = await h.open('f2', { action: discount(12) });
      h.policy.tamper = (d) => ({ ...d, tenantId: 'globex' });
      await expect(h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).rejects.toThrow(
        PolicyRecheckError,
      );
      h.policy.tamper = (d) => ({ ...d, proposal: { ...d.proposal!, proposalId: 'other' } });
      await expect(h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).rejects.toThrow(
        PolicyRecheckError,
      );
      expect((await h.doc(id)).version).toBe(1);
    });

    it('treats an unspecified verdict as DENY, and a token short of approvals as not yet approved', async () => {
      const h = harness();
      const id = await h.open('f3', { action: discount(12) });
      h.policy.tamper = (d) => ({ ...d, verdict: Verdict.VERDICT_UNSPECIFIED, token: undefined });
      expect((await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).effect).toBe(
        'denied-by-policy',
      );
      const id2 = await h.open('f4', { action: discount(12) });
      h.policy.tamper = (d) => ({ ...d, token: d.token && { ...d.token, approvals: [] } });
      const r = await h.decisions.decide(ACME, id2, 'alice', { outcome: 'APPROVE' });
      expect(r).toEqual(expect.objectContaining({ effect: 'pending-approvals', status: 'OPEN' }));
      expect((await h.events()).policyDecisions.filter((d) => d.token)).toHaveLength(0);
    });

    it('past the final deadline a task takes no approval, only a rejection', async () => {
      const h = harness({
        config: {
          sla: { default: { tiers: [{ slaMs: HOUR }], warnBeforeMs: 0, onExpiry: 'reject' } },
        },
      });
      const id = await h.open('f5', { action: qualify() });
      h.clock.advance(HOUR);
      await expect(h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' })).rejects.toThrow(
        TaskExpiredError,
      );
      await expect(h.queue.claim(ACME, id, 'alice')).rejects.toThrow(TaskExpiredError);
      expect(
        (await h.decisions.decide(ACME, id, 'alice', { outcome: 'REJECT', reasonCode: 'TOO_LATE' }))
          .status,
      ).toBe('REJECTED');
    });
  });

  describe('post-hoc reviews', () => {
    async function postHoc() {
      const h = harness();
      const opener = new ReviewTaskOpener({ now: h.clock.now, noticeSampleRate: 1 });
      const d = decisionFor('ph', { verdict: Verdict.VERDICT_AUTO_WITH_NOTICE, action: qualify() });
      d.token = { tokenId: 't' } as never;
      const task = await opener.open(h.store, d);
      return { h, id: task!.taskId };
    }

    it('records an approval without re-check or execution', async () => {
      const { h, id } = await postHoc();
      const r = await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' });
      expect(r).toEqual(expect.objectContaining({ status: 'APPROVED', effect: 'recorded' }));
      expect(h.policy.calls).toHaveLength(0);
      expect((await h.events()).policyDecisions).toHaveLength(0);
    });

    it('records a rejection (it costs the agent trust) and refuses edits', async () => {
      const { h, id } = await postHoc();
      await expect(
        h.decisions.decide(ACME, id, 'alice', {
          outcome: 'EDIT_APPROVE',
          editedAction: qualify(10),
        }),
      ).rejects.toThrow(/already executed/);
      const r = await h.decisions.decide(ACME, id, 'alice', {
        outcome: 'REJECT',
        reasonCode: 'WRONG_LEAD',
      });
      expect(r.status).toBe('REJECTED');
      expect((await h.events()).reviewDecisions).toHaveLength(1);
    });
  });

  describe('batch approval', () => {
    it('approves the qualifying low-risk APPROVE_1 tasks one by one and refuses the rest with reasons', async () => {
      const h = harness();
      const ok1 = await h.open('b1', { action: qualify(), riskBand: 'low' });
      const ok2 = await h.open('b2', { action: qualify(), riskBand: 'low' });
      const medium = await h.open('b3', { action: qualify(), riskBand: 'medium' });
      const fourEyes = await h.open('b4', {
        action: qualify(),
        riskBand: 'low',
        verdict: Verdict.VERDICT_APPROVE_2,
      });
      const claimed = await h.open('b5', { action: qualify(), riskBand: 'low' });
      await h.queue.claim(ACME, claimed, 'bob');
      const res = await h.decisions.approveBatch(
        ACME,
        'dave',
        [ok1, medium, fourEyes, 'task-nope', claimed, ok2, ok1],
        { batchId: 'batch-1', comment: 'routine' },
      );
      expect(res.items.map((i) => [i.taskId, i.ok ? i.result.effect : i.code])).toEqual([
        [ok1, 'approved'],
        [medium, 'NOT_LOW_RISK'],
        [fourEyes, 'FOUR_EYES'],
        ['task-nope', 'TASK_NOT_FOUND'],
        [claimed, 'TASK_ALREADY_CLAIMED'],
        [ok2, 'approved'],
        [ok1, 'DUPLICATE_IN_BATCH'],
      ]);
      expect(res).toEqual(expect.objectContaining({ batchId: 'batch-1', approved: 2, refused: 5 }));
      const refusal = res.items[1];
      expect(!refusal.ok && refusal.reason).toContain('risk band medium');
      // each approved item was re-checked and audited on its own
      expect(h.policy.calls.map((c) => c.decision.decisionId)).toEqual(['b1', 'b2']);
      const e = await h.events();
      const audits = e.audits.filter((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION);
      expect(audits.map((a) => [a.actor, a.attributes['batchId'], a.attributes['taskId']])).toEqual(
        [
          ['dave', 'batch-1', ok1],
          ['dave', 'batch-1', ok2],
        ],
      );
      expect(audits[0].summary).toContain('dave approved in a batch');
      expect(e.policyDecisions).toHaveLength(2);
      // the same batch again changes nothing
      const again = await h.decisions.approveBatch(ACME, 'dave', [ok1, ok2], {
        batchId: 'batch-1',
      });
      expect(again.items.map((i) => i.ok && i.result.duplicate)).toEqual([true, true]);
      expect((await h.events()).entries).toHaveLength(e.entries.length);
    });

    it('refuses oversized batches and people who may not decide', async () => {
      const h = harness({ config: { batch: { maxItems: 2 } } });
      await expect(h.decisions.approveBatch(ACME, 'dave', ['a', 'b', 'c'])).rejects.toThrow(
        InvalidDecisionError,
      );
      await expect(h.decisions.approveBatch(ACME, 'aud', ['a'])).rejects.toThrow(
        NotAuthorisedError,
      );
    });

    it('reports a batch item whose re-check now needs four eyes as pending, not approved', async () => {
      const h = harness();
      const id = await h.open('b9', { action: discount(12), riskBand: 'low' });
      h.policy.verdictFor = () => Verdict.VERDICT_APPROVE_2;
      const res = await h.decisions.approveBatch(ACME, 'alice', [id]);
      expect(res.items[0].ok && res.items[0].result.effect).toBe('pending-approvals');
      expect((await h.events()).policyDecisions).toHaveLength(0);
    });
  });

  it('needs the policy port', () => {
    const h = harness();
    expect(() => new ReviewDecisions({ ...h.deps, policy: undefined })).toThrow(
      /policy re-check port/,
    );
  });
});
