import {
  ActionProposal,
  CrmAction,
  DecisionExplanation,
  PolicyDecision,
  ReviewTask,
  Verdict,
} from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import { REVIEW_TASKS } from './collections';
import { ReviewTaskOpener } from './review-task.opener';

const NOW = new Date('2025-01-15T10:00:00Z');

function decision(id: string, verdict: Verdict, withToken = false): PolicyDecision {
  return PolicyDecision.fromPartial({
    decisionId: id,
    tenantId: 'acme',
    correlationId: `c-${id}`,
    verdict,
    proposal: ActionProposal.fromPartial({
      proposalId: `p-${id}`,
      tenantId: 'acme',
      target: { objectType: 'lead', recordId: 'lead-1' },
    }),
    token: withToken ? { tokenId: `t-${id}` } : undefined,
  });
}

describe('ReviewTaskOpener', () => {
  const store = () => new InMemoryDocumentStore(REVIEW_TASKS);

  it('opens a task needing the verdict approvals for APPROVE_1 and APPROVE_2, once per decision', async () => {
    const s = store();
    const opener = new ReviewTaskOpener({ now: () => NOW, noticeSampleRate: 0 });
    const one = await opener.open(s, decision('d1', Verdict.VERDICT_APPROVE_1));
    const two = await opener.open(s, decision('d2', Verdict.VERDICT_APPROVE_2));
    expect(one).toEqual(expect.objectContaining({ requiredApprovals: 1, postHoc: false }));
    expect(two?.requiredApprovals).toBe(2);
    expect(await opener.open(s, decision('d1', Verdict.VERDICT_APPROVE_1))).toBeUndefined();
    const doc = await s.get(tenantId('acme'), 'task-d1');
    expect(ReviewTask.decode(Buffer.from(doc!.task, 'base64')).taskId).toBe('task-d1');
  });

  it('opens nothing for AUTO, DENY, or a decision that already carries its token', async () => {
    const s = store();
    const opener = new ReviewTaskOpener({ now: () => NOW, noticeSampleRate: 1 });
    for (const [id, v, token] of [
      ['a', Verdict.VERDICT_AUTO, true],
      ['b', Verdict.VERDICT_DENY, false],
      ['c', Verdict.VERDICT_APPROVE_1, true],
    ] as const)
      expect(await opener.open(s, decision(id, v, token))).toBeUndefined();
  });

  it('samples AUTO_WITH_NOTICE decisions for post-hoc review at the configured rate, deterministically', async () => {
    const all = new ReviewTaskOpener({ now: () => NOW, noticeSampleRate: 1 });
    const task = await all.open(store(), decision('n1', Verdict.VERDICT_AUTO_WITH_NOTICE, true));
    expect(task).toEqual(expect.objectContaining({ postHoc: true, requiredApprovals: 0 }));
    const none = new ReviewTaskOpener({ noticeSampleRate: 0 });
    expect(
      await none.open(store(), decision('n1', Verdict.VERDICT_AUTO_WITH_NOTICE, true)),
    ).toBeUndefined();

    const fifth = new ReviewTaskOpener({ noticeSampleRate: 0.2 });
    const ids = Array.from({ length: 2000 }, (_, i) => `decision-${i}`);
    const sampled = ids.filter((id) => fifth.sampled(id));
    expect(sampled.length / ids.length).toBeGreaterThan(0.17);
    expect(sampled.length / ids.length).toBeLessThan(0.23);
    expect(ids.filter((id) => fifth.sampled(id))).toEqual(sampled); // same ids every time
  });

  it('routes the task to its queue and sets its SLA timers as data on the task', async () => {
    const s = store();
    const opener = new ReviewTaskOpener({
      now: () => NOW,
      noticeSampleRate: 0,
      config: {
        routing: { rules: [{ actionType: 'apply_discount', team: 'deal-desk', skill: 'pricing' }] },
      },
    });
    const d = decision('r1', Verdict.VERDICT_APPROVE_2);
    d.proposal!.agentId = 'deal-agent';
    d.proposal!.action = CrmAction.fromPartial({
      kind: { $case: 'applyDiscount', value: { discountPercent: 20, reason: 'x' } },
    });
    d.explanation = DecisionExplanation.fromPartial({ riskBand: 'high' });
    const task = await opener.open(s, d);
    expect(task?.queue).toBe('deal-desk');
    const doc = await s.get(tenantId('acme'), 'task-r1');
    expect(doc).toEqual(
      expect.objectContaining({
        team: 'deal-desk',
        skill: 'pricing',
        actionType: 'apply_discount',
        riskBand: 'high',
        tier: 0,
        agentId: 'deal-agent',
        proposalId: 'p-r1',
        decisionId: 'r1',
        dueAt: new Date(NOW.getTime() + 4 * 3600_000),
        warnAt: new Date(NOW.getTime() + 3.5 * 3600_000),
        nextTimerAt: new Date(NOW.getTime() + 3.5 * 3600_000),
        reviews: [],
        comments: [],
      }),
    );
    expect(doc!.payloadChars).toBeGreaterThan(20);
  });

  it('keeps the legacy slaMs option as the first tier (warning clamped inside it)', async () => {
    const s = store();
    const opener = new ReviewTaskOpener({ now: () => NOW, noticeSampleRate: 0, slaMs: 60_000 });
    await opener.open(s, decision('l1', Verdict.VERDICT_APPROVE_1));
    const doc = await s.get(tenantId('acme'), 'task-l1');
    expect(doc!.dueAt).toEqual(new Date(NOW.getTime() + 60_000));
    expect(doc!.warnAt).toEqual(new Date(NOW.getTime() + 30_000));
  });

  it('refuses an invalid configuration', () => {
    expect(() => new ReviewTaskOpener({ noticeSampleRate: 1.5 })).toThrow(RangeError);
    expect(() => new ReviewTaskOpener({ slaMs: 0 })).toThrow(RangeError);
    expect(
      () =>
        new ReviewTaskOpener({
          config: {
            sla: {
              default: { onExpiry: 'approve' as never, tiers: [{ slaMs: 1000 }], warnBeforeMs: 0 },
            },
          },
        }),
    ).toThrow(/never end in approval/);
  });
});
