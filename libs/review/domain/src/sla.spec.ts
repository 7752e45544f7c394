import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditKind, ReviewOutcome, ReviewTaskStatus, Verdict } from '@mandate/contracts';
import { FileDocumentJournal, InMemoryDocumentStore } from '@mandate/storage';
import { REVIEW_TASKS } from './collections';
import type { ReviewConfigInput } from './review-config';
import type { ReviewTaskDoc } from './review-task.doc';
import { ReviewTaskOpener } from './review-task.opener';
import { SLA_EXPIRED, SLA_REVIEWER, SlaSweeper } from './sla';
import {
  ACME,
  DEFAULT_TEST_CONFIG,
  decisionFor,
  discount,
  eventsOf,
  GLOBEX,
  harness,
  MIN,
  qualify,
  START,
} from './testing/fixtures';

const at = (minutes: number) => new Date(START.getTime() + minutes * MIN);

/** Tier 0: the routed team, 60 min (warning 15 min before); tier 1: supervisors, 30 min. */
const CONFIG: ReviewConfigInput = {
  ...DEFAULT_TEST_CONFIG,
  sla: {
    default: {
      tiers: [
        { slaMs: 60 * MIN, warnBeforeMs: 15 * MIN },
        { team: 'supervisors', slaMs: 30 * MIN },
      ],
      warnBeforeMs: 10 * MIN,
      onExpiry: 'reject',
    },
    byActionType: { qualify_lead: { onExpiry: 'expire' } },
  },
};

const slaAudits = (audits: { attributes: Record<string, string> }[]) =>
  audits
    .map((a) => a.attributes['event'])
    .filter((e) => e?.startsWith('sla_') || e === 'claim_expired');

describe('SLA timers', () => {
  it('warns, escalates to the next tier with a new deadline, then fails safe with a REJECT — each once', async () => {
    const h = harness({ config: CONFIG });
    const id = await h.open('s1', { action: discount(12) });
    expect(await h.doc(id)).toEqual(
      expect.objectContaining({
        team: 'deal-desk',
        dueAt: at(60),
        warnAt: at(45),
        nextTimerAt: at(45),
      }),
    );
    expect(await h.sla.sweep(at(44), [ACME])).toEqual(
      expect.objectContaining({ warned: 0, escalated: 0 }),
    );

    expect((await h.sla.sweep(at(45), [ACME])).warned).toBe(1);
    expect((await h.sla.sweep(at(45), [ACME])).warned).toBe(0); // a repeated sweep changes nothing
    expect((await h.sla.sweep(at(50), [ACME])).warned).toBe(0);
    expect((await h.doc(id)).warnedAt).toEqual(at(45));

    h.clock.set(at(50));
    await h.queue.claim(ACME, id, 'alice');
    const esc = await h.sla.sweep(at(60), [ACME]);
    expect(esc).toEqual(expect.objectContaining({ escalated: 1, expired: 0 }));
    const escalated = await h.doc(id);
    expect(escalated).toEqual(
      expect.objectContaining({
        tier: 1,
        team: 'supervisors',
        status: 'OPEN',
        dueAt: at(90),
        warnAt: at(80),
      }),
    );
    expect(escalated.assigneeId).toBeUndefined();
    expect(escalated.warnedAt).toBeUndefined();
    // the escalation tier's team now owns it: alice (deal-desk) no longer may, carol (supervisor) may
    h.clock.set(at(61));
    await expect(h.queue.claim(ACME, id, 'alice')).rejects.toMatchObject({ reason: 'TEAM' });
    expect((await h.queue.list(ACME, { team: 'supervisors' })).items.map((i) => i.taskId)).toEqual([
      id,
    ]);

    expect((await h.sla.sweep(at(80), [ACME])).warned).toBe(1);
    const exp = await h.sla.sweep(at(90), [ACME]);
    expect(exp).toEqual(expect.objectContaining({ expired: 1 }));
    expect(await h.sla.sweep(at(200), [ACME])).toEqual({
      warned: 0,
      escalated: 0,
      expired: 0,
      leasesExpired: 0,
      conflicts: 0,
    });

    const doc = await h.doc(id);
    expect(doc).toEqual(
      expect.objectContaining({ status: 'EXPIRED', closeReason: SLA_EXPIRED, closedAt: at(90) }),
    );
    expect(doc.nextTimerAt).toBeUndefined();
    const e = await h.events();
    expect(slaAudits(e.audits)).toEqual([
      'sla_warning',
      'sla_escalated',
      'sla_warning',
      'sla_expired',
    ]);
    const escalation = e.audits.find((a) => a.attributes['event'] === 'sla_escalated')!;
    expect(escalation.summary).toContain('tier 0 (team deal-desk) passed its deadline');
    expect(escalation.summary).toContain('while claimed by alice');
    expect(escalation.summary).toContain('now tier 1 (team supervisors)');
    // the fail-safe: a REJECT by system/sla, reason SLA_EXPIRED, published and audited — never approval
    expect(e.reviewDecisions).toEqual([
      expect.objectContaining({
        taskId: id,
        reviewerId: SLA_REVIEWER,
        outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
        reasonCode: 'SLA_EXPIRED',
        proposalId: 'p-s1',
        decisionId: 's1',
        decidedAt: at(90).toISOString(),
      }),
    ]);
    const decisionAudit = e.audits.find((a) => a.kind === AuditKind.AUDIT_KIND_REVIEW_DECISION)!;
    expect(decisionAudit.actor).toBe(SLA_REVIEWER);
    expect(decisionAudit.summary).toContain(
      'fail-safe REJECT (SLA_EXPIRED), the action is not executed',
    );
    expect(e.policyDecisions).toHaveLength(0);
    expect(e.tasks.at(-1)?.status).toBe(ReviewTaskStatus.REVIEW_TASK_STATUS_EXPIRED);
    // every SLA transition's task snapshot went out once
    expect(e.tasks).toHaveLength(1 /* opened */ + 1 /* claimed */ + 4);
  });

  it('never approves on expiry, even with approvals already given', async () => {
    const h = harness({ config: CONFIG });
    const id = await h.open('s2', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
    h.clock.set(at(5));
    await h.decisions.decide(ACME, id, 'alice', { outcome: 'APPROVE' });
    await h.sla.sweep(at(60), [ACME]);
    await h.sla.sweep(at(90), [ACME]);
    const e = await h.events();
    expect((await h.doc(id)).status).toBe('EXPIRED');
    expect(e.reviewDecisions.map((r) => [r.reviewerId, r.outcome])).toEqual([
      ['alice', ReviewOutcome.REVIEW_OUTCOME_APPROVE],
      [SLA_REVIEWER, ReviewOutcome.REVIEW_OUTCOME_REJECT],
    ]);
    expect(e.policyDecisions.filter((d) => d.token)).toHaveLength(0);
    // the expired task takes no late decision
    await expect(
      h.decisions.decide(ACME, id, 'carol', { outcome: 'APPROVE' }),
    ).rejects.toMatchObject({
      code: 'TASK_CLOSED',
    });
  });

  it('expires without a rejection where configured (qualify_lead), and for post-hoc reviews', async () => {
    const h = harness({ config: CONFIG });
    const id = await h.open('s3', { action: qualify() });
    const opener = new ReviewTaskOpener({ now: h.clock.now, noticeSampleRate: 1, config: CONFIG });
    const ph = decisionFor('s3ph', {
      verdict: Verdict.VERDICT_AUTO_WITH_NOTICE,
      action: discount(5),
    });
    ph.token = { tokenId: 't' } as never;
    const post = (await opener.open(h.store, ph))!.taskId;
    await h.sla.sweep(at(60), [ACME]);
    const r = await h.sla.sweep(at(90), [ACME]);
    expect(r.expired).toBe(2);
    for (const t of [id, post])
      expect(await h.doc(t)).toEqual(
        expect.objectContaining({ status: 'EXPIRED', closeReason: 'SLA_EXPIRED_NO_REJECTION' }),
      );
    const e = await h.events();
    expect(e.reviewDecisions).toHaveLength(0);
    const expired = e.audits.filter((a) => a.attributes['event'] === 'sla_expired');
    expect(expired.map((a) => a.kind)).toEqual([
      AuditKind.AUDIT_KIND_REVIEW_TASK,
      AuditKind.AUDIT_KIND_REVIEW_TASK,
    ]);
    expect(expired[0].summary).toContain('without a rejection');
  });

  it('gives each escalation tier its full time, even after a long outage', async () => {
    const h = harness({ config: CONFIG });
    const id = await h.open('s4', { action: discount(12) });
    const r = await h.sla.sweep(at(600), [ACME]); // the sweeper was down for hours
    expect(r).toEqual(expect.objectContaining({ warned: 0, escalated: 1, expired: 0 }));
    expect(await h.doc(id)).toEqual(expect.objectContaining({ tier: 1, dueAt: at(630) }));
    expect((await h.sla.sweep(at(630), [ACME])).expired).toBe(1);
  });

  it('releases a claim whose lease ran out, so a vanished reviewer does not hold the task', async () => {
    const h = harness({ config: { ...CONFIG, leaseMs: 10 * MIN } });
    const id = await h.open('s5', { action: discount(12) });
    await h.queue.claim(ACME, id, 'alice');
    expect((await h.doc(id)).nextTimerAt).toEqual(at(10));
    const r = await h.sla.sweep(at(10), [ACME]);
    expect(r.leasesExpired).toBe(1);
    expect((await h.doc(id)).status).toBe('OPEN');
    const audit = (await h.events()).audits.find((a) => a.attributes['event'] === 'claim_expired')!;
    expect(audit.summary).toContain('claim by alice expired');
    h.clock.set(at(11));
    expect((await h.queue.claim(ACME, id, 'bob')).assigneeId).toBe('bob');
  });

  it('concurrent sweeps (replicas, redelivered ticks) take each step once', async () => {
    const h = harness({ config: CONFIG });
    for (const n of [1, 2, 3]) await h.open(`c${n}`, { action: discount(12) });
    const other = new SlaSweeper({ tasks: h.store, config: CONFIG });
    const [a, b, c] = await Promise.all([
      h.sla.sweep(at(60), [ACME]),
      other.sweep(at(60), [ACME]),
      h.sla.sweep(at(60), [ACME]),
    ]);
    expect(a.escalated + b.escalated + c.escalated).toBe(3);
    expect(a.conflicts + b.conflicts + c.conflicts).toBeGreaterThan(0); // they did race
    const e = await h.events();
    expect(e.audits.filter((x) => x.attributes['event'] === 'sla_escalated')).toHaveLength(3);
    for (const n of [1, 2, 3]) expect((await h.doc(`task-c${n}`)).tier).toBe(1);
  });

  it('sweeps every tenant the tenant source lists, each in its own scope', async () => {
    const h = harness({ config: CONFIG });
    await h.open('t1', { action: discount(12) });
    await h.open('t2', { action: discount(12), tenant: GLOBEX });
    const sweeper = new SlaSweeper({
      tasks: h.store,
      config: CONFIG,
      tenants: async () => [ACME, GLOBEX],
    });
    expect((await sweeper.sweep(at(60))).escalated).toBe(2);
    expect((await h.doc('task-t2', GLOBEX)).tier).toBe(1);
    expect((await new SlaSweeper({ tasks: h.store }).sweep(at(60))).escalated).toBe(0); // no tenants: nothing
  });

  it('gives first-version documents their timers without events, then runs them', async () => {
    const h = harness({ config: CONFIG });
    const id = await h.open('lg', { action: discount(12) });
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
    const before = (await h.events()).entries.length;
    await h.sla.sweep(at(1), [ACME]);
    expect(await h.doc(id)).toEqual(
      expect.objectContaining({ nextTimerAt: at(45), warnAt: at(45), tier: 0 }),
    );
    expect((await h.events()).entries).toHaveLength(before);
    expect((await h.sla.sweep(at(60), [ACME])).escalated).toBe(1);
  });

  describe('across a restart', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'review-sla-'));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const process = () => {
      const store = new InMemoryDocumentStore<ReviewTaskDoc>(REVIEW_TASKS, {
        journal: new FileDocumentJournal({ dir, collection: 'review_tasks' }),
        clock: () => START,
      });
      return {
        store,
        sla: new SlaSweeper({ tasks: store, config: CONFIG, tenants: async () => [ACME] }),
      };
    };

    it('timers are data: a new process over the same storage continues them, and repeats nothing', async () => {
      const first = process();
      const opener = new ReviewTaskOpener({
        now: () => START,
        noticeSampleRate: 0,
        config: CONFIG,
      });
      await opener.open(first.store, decisionFor('rs', { action: discount(12) }));
      expect((await first.sla.sweep(at(45))).warned).toBe(1);

      // the process dies; a new one (new store from the journal, new sweeper) takes over
      const second = process();
      expect((await second.sla.sweep(at(45))).warned).toBe(0); // the warning is not repeated
      expect((await second.sla.sweep(at(60))).escalated).toBe(1);

      const third = process();
      expect((await third.sla.sweep(at(60))).escalated).toBe(0);
      expect((await third.sla.sweep(at(90))).expired).toBe(1);
      expect((await third.sla.sweep(at(90))).expired).toBe(0);

      const e = await eventsOf(third.store); // the outbox survived too, undelivered entries included
      // the tier-1 warning (due at 80) was never swept: the sweep at 90 found the deadline first
      expect(slaAudits(e.audits)).toEqual(['sla_warning', 'sla_escalated', 'sla_expired']);
      expect(e.reviewDecisions.map((r) => [r.reviewerId, r.reasonCode])).toEqual([
        [SLA_REVIEWER, 'SLA_EXPIRED'],
      ]);
      expect((await third.store.get(ACME, 'task-rs'))?.status).toBe('EXPIRED');
    });
  });
});
