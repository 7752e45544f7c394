import { ActionProposal, PolicyDecision, ReviewTask, Verdict } from '@mandate/contracts';
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

  it('refuses an invalid configuration', () => {
    expect(() => new ReviewTaskOpener({ noticeSampleRate: 1.5 })).toThrow(RangeError);
    expect(() => new ReviewTaskOpener({ slaMs: 0 })).toThrow(RangeError);
  });
});
