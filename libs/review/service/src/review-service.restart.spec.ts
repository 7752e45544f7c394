import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import {
  ActionProposal,
  CrmAction,
  PolicyDecision,
  ReviewDecision,
  ReviewOutcome,
  Verdict,
} from '@mandate/contracts';
import { Topics } from '@mandate/messaging';
import {
  createLogger,
  createNestApp,
  EmbeddedRuntime,
  firstOf,
  LocalOidcIssuer,
} from '@mandate/platform';
import {
  REVIEW_TASKS,
  REVIEW_TENANTS,
  SLA_EXPIRED,
  SLA_REVIEWER,
  type ReviewTaskDoc,
} from '@mandate/review-domain';
import { tenantId } from '@mandate/storage';
import { REVIEW_TASK_STORE } from './decision.consumer';
import { ReviewServiceModule } from './review-service.module';
import {
  ReviewersConfigError,
  parseReviewers,
  StaticReviewerDirectory,
} from './reviewer-directory';
import { SlaSweeperHost } from './sla-sweeper.host';

/**
 * The review service over persistent storage, "restarted" by building a new runtime and module
 * over the same data directory (the review_tasks journal): SLA timers are data on the task, so the
 * next process escalates and fails safe where the previous one left off, exactly once.
 */

const ACME = tenantId('acme');
/** A tenant with no configured reviewers (nobody can decide: its tasks only fail safe). */
const INITECH = tenantId('initech');
const T0 = new Date('2025-03-03T09:00:00.000Z');
const HOUR = 3600_000;
const at = (h: number) => new Date(T0.getTime() + h * HOUR);

const reviewers = new StaticReviewerDirectory([
  {
    id: 'rev-a',
    tenantId: 'acme',
    teams: ['general'],
    skills: [],
    roles: ['reviewer'],
    active: true,
  },
]);

function decision(id: string, tenant = ACME): PolicyDecision {
  return PolicyDecision.fromPartial({
    decisionId: id,
    tenantId: tenant,
    correlationId: `corr-${id}`,
    verdict: Verdict.VERDICT_APPROVE_1,
    proposal: ActionProposal.fromPartial({
      proposalId: `p-${id}`,
      tenantId: tenant,
      correlationId: `corr-${id}`,
      agentId: 'lead-qualification',
      idempotencyKey: `k-${id}`,
      target: { objectType: 'lead', recordId: 'lead-1' },
      action: CrmAction.fromPartial({
        kind: { $case: 'qualifyLead', value: { score: 80, reason: 'fits' } },
      }),
      rationale: 'fits the ideal customer profile',
    }),
    explanation: { riskBand: 'medium', reasonCodes: ['MATRIX'] },
    decidedAt: T0.toISOString(),
  });
}

describe('review service across restarts (persistent review_tasks)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'review-service-'));
  });
  const running = new Set<() => Promise<void>>();
  afterEach(async () => {
    for (const close of running) await close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One process of the human-review service whose clock reads `now`. */
  async function start(now: Date) {
    const logger = createLogger('review-test', 'silent');
    const runtime = new EmbeddedRuntime(logger, {
      dataDir: dir,
      persistentCollections: [REVIEW_TASKS.name, REVIEW_TENANTS.name],
    });
    const issuer = new LocalOidcIssuer();
    const module = await ReviewServiceModule.create({
      context: runtime.context('human-review'),
      stores: runtime.stores,
      authenticator: firstOf(issuer.authenticator()),
      recheck: {
        recheck: async () => {
          throw new Error('no re-check in this test');
        },
      },
      reviewers,
      now: () => now,
      sweepIntervalMs: 0,
      relayIntervalMs: 50,
      noticeSampleRate: 0,
    });
    await runtime.bus.start();
    const app: INestApplication = await createNestApp(
      [module],
      { metrics: runtime.contexts.map((c) => c.metrics), readiness: [] },
      logger,
    );
    await app.init();
    const close = async () => {
      if (!running.delete(close)) return;
      await app.close();
      await runtime.bus.stop();
    };
    running.add(close);
    return {
      runtime,
      app,
      sla: app.get(SlaSweeperHost),
      store: app.get(REVIEW_TASK_STORE) as {
        get(t: typeof ACME, id: string): Promise<ReviewTaskDoc | undefined>;
        find(t: typeof ACME, f: object): Promise<ReviewTaskDoc[]>;
      },
      close,
    };
  }

  it('escalates and fails safe after restarts, each step once, and publishes the SLA rejection', async () => {
    // Process 1 opens the task from a decision on the bus.
    const p1 = await start(at(0));
    await p1.runtime.bus.publish(Topics.policyDecisions, decision('d-1'), {
      tenantId: ACME,
      correlationId: 'corr-d-1',
      source: 'policy',
      id: 'd-1',
    });
    let task: ReviewTaskDoc | undefined;
    for (let i = 0; i < 100 && !task; i++) {
      task = (await p1.store.find(ACME, {}))[0];
      if (!task) await new Promise((r) => setTimeout(r, 20));
    }
    expect(task).toMatchObject({ status: 'OPEN', team: 'general', tier: 0 });
    expect((await p1.sla.sweepNow(at(3.75))).warned).toBe(1); // 30 min before the 4 h deadline
    await p1.close();

    // Process 2 (new runtime over the same files) past the first deadline: escalation, once.
    const p2 = await start(at(4.5));
    expect((await p2.sla.sweepNow()).warned).toBe(0);
    const p2Report = await p2.sla.sweepNow();
    expect(p2Report.escalated).toBe(0); // the first sweep of this process already escalated
    const escalated = await p2.store.get(ACME, task!.id);
    expect(escalated).toMatchObject({ status: 'OPEN', tier: 1, team: 'supervisors' });
    await p2.close();

    // Process 3 past the last tier's deadline: the fail-safe rejects, once.
    const p3 = await start(at(7));
    const report = await p3.sla.sweepNow();
    expect(report.expired).toBe(1);
    expect((await p3.sla.sweepNow()).expired).toBe(0);
    const expired = await p3.store.get(ACME, task!.id);
    expect(expired).toMatchObject({ status: 'EXPIRED' });
    expect(expired?.closeReason).toMatch(/^SLA_EXPIRED/);
    // The rejection goes out on review-decisions (the relay delivers the outbox) ...
    const rejection = await (async () => {
      for (let i = 0; i < 100; i++) {
        const recs = p3.runtime.broker.records(Topics.reviewDecisions.name);
        const found = recs.find((r) => r.headers['ce_source'] === 'human-review');
        if (found) return found;
        await new Promise((r) => setTimeout(r, 20));
      }
      return undefined;
    })();
    expect(rejection).toBeDefined();
    // ... and this service's own consumer does not apply it again (source human-review).
    await new Promise((r) => setTimeout(r, 200));
    expect((await p3.store.get(ACME, task!.id))?.reviews).toHaveLength(1);
    expect((await p3.store.get(ACME, task!.id))?.reviews?.[0]).toMatchObject({
      reviewerId: SLA_REVIEWER,
      reasonCode: SLA_EXPIRED,
      outcome: 'REJECT',
    });
    await p3.close();
  });

  it('sweeps a tenant without reviewers after a restart, before any new message of it (review_tenants)', async () => {
    // Process 1 opens a task for a tenant nobody in the directory works for.
    const p1 = await start(at(0));
    await p1.runtime.bus.publish(Topics.policyDecisions, decision('d-3', INITECH), {
      tenantId: INITECH,
      correlationId: 'corr-d-3',
      source: 'policy',
      id: 'd-3',
    });
    let task: ReviewTaskDoc | undefined;
    for (let i = 0; i < 100 && !task; i++) {
      task = (await p1.store.find(INITECH, {}))[0];
      if (!task) await new Promise((r) => setTimeout(r, 20));
    }
    expect(task).toMatchObject({ status: 'OPEN', tier: 0 });
    await p1.close();

    // Process 2 knows the tenant from neither its directory nor a message: the registry has it.
    const p2 = await start(at(7));
    expect((await p2.sla.sweepNow()).escalated).toBe(1); // past the first tier's 4 h
    expect(await p2.store.get(INITECH, task!.id)).toMatchObject({ status: 'OPEN', tier: 1 });
    const report = await p2.sla.sweepNow(at(9.5)); // past the last tier's 2 h: the fail-safe
    expect(report.expired).toBe(1);
    const expired = await p2.store.get(INITECH, task!.id);
    expect(expired).toMatchObject({ status: 'EXPIRED' });
    expect(expired?.reviews?.[0]).toMatchObject({ reviewerId: SLA_REVIEWER, outcome: 'REJECT' });
    await p2.close();
  });

  it('applies a decision from the bus only once across a restart (same review_decision_id)', async () => {
    const p1 = await start(at(0));
    await p1.runtime.bus.publish(Topics.policyDecisions, decision('d-2'), {
      tenantId: ACME,
      correlationId: 'corr-d-2',
      source: 'policy',
      id: 'd-2',
    });
    let task: ReviewTaskDoc | undefined;
    for (let i = 0; i < 100 && !task; i++) {
      task = (await p1.store.find(ACME, {}))[0];
      if (!task) await new Promise((r) => setTimeout(r, 20));
    }
    const reject = ReviewDecision.fromPartial({
      reviewDecisionId: 'rd-1',
      taskId: task!.id,
      tenantId: ACME,
      reviewerId: 'rev-a',
      outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
      reasonCode: 'NOT_NOW',
    });
    const meta = { tenantId: ACME, correlationId: 'corr-d-2', source: 'console-b', id: 'rd-1' };
    await p1.runtime.bus.publish(Topics.reviewDecisions, reject, meta);
    for (let i = 0; i < 100; i++) {
      if ((await p1.store.get(ACME, task!.id))?.status === 'REJECTED') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await p1.close();
    const p2 = await start(at(1));
    // Redelivered to the new process: recognised by its id, nothing changes.
    await p2.runtime.bus.publish(Topics.reviewDecisions, reject, { ...meta, id: 'rd-1-again' });
    await new Promise((r) => setTimeout(r, 300));
    const doc = await p2.store.get(ACME, task!.id);
    expect(doc?.status).toBe('REJECTED');
    expect(doc?.reviews).toHaveLength(1);
    await p2.close();
  });
});

describe('REVIEWERS configuration', () => {
  it('accepts a valid list and reports every problem of an invalid one', () => {
    expect(
      parseReviewers('[{"id":"a","tenantId":"acme","teams":["general"],"roles":["reviewer"]}]'),
    ).toEqual([
      {
        id: 'a',
        tenantId: 'acme',
        teams: ['general'],
        skills: [],
        roles: ['reviewer'],
        active: true,
      },
    ]);
    expect(() => parseReviewers('{')).toThrow(ReviewersConfigError);
    let message = '';
    try {
      parseReviewers(
        JSON.stringify([
          { id: 'a', tenantId: 'Not A Tenant', teams: 'general', roles: ['boss'] },
          { id: 'b', tenantId: 'acme', teams: [], roles: ['auditor'], extra: 1 },
          { id: 'b', tenantId: 'acme', teams: [], roles: ['auditor'] },
        ]),
      );
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('reviewers[0] (a): tenantId');
    expect(message).toContain('reviewers[0] (a): teams');
    expect(message).toContain('reviewers[0] (a): roles');
    expect(message).toContain('reviewers[1] (b): unknown field "extra"');
    expect(message).toContain('reviewers[2] (b): duplicate id');
  });
});
