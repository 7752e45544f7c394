import {
  ErrorClass,
  ExecutionOutcome,
  ExecutionStatus,
  ReviewDecision,
  ReviewOutcome,
  TrustEvidence,
} from '@mandate/contracts';
import { InMemoryDocumentStore, tenantId } from '@mandate/storage';
import {
  CircuitBreakers,
  DEFAULT_CIRCUIT_BREAKER_CONFIG,
  type CircuitBreakerConfig,
} from '../autonomy/circuit-breakers';
import { DECISIONS, type DecisionDoc } from '../engine/policy-decider';
import {
  InvalidTrustEvidenceEventError,
  TrustEvidenceRecorder,
  TrustEvidenceRouter,
} from './trust-evidence.flow';
import { TRUST_STATES, TrustRepository } from './trust.repository';

const NOW = new Date('2025-01-15T10:00:00Z');
const ACME = tenantId('acme');
const AGENT = 'lead-qualification';

function decisionDoc(overrides: Partial<DecisionDoc> = {}): DecisionDoc {
  return {
    id: 'p-1',
    decisionId: 'd-1',
    verdict: 'VERDICT_APPROVE_1',
    correlationId: 'c-1',
    agentId: AGENT,
    actionType: 'qualify_lead',
    bundleVersion: '1.0.0',
    decidedAt: NOW,
    ...overrides,
  };
}

async function routerSetup() {
  const decisions = new InMemoryDocumentStore(DECISIONS);
  await decisions.insert(ACME, decisionDoc());
  return { decisions, router: new TrustEvidenceRouter(decisions) };
}

function outcome(overrides: Partial<ExecutionOutcome> = {}): ExecutionOutcome {
  return ExecutionOutcome.fromPartial({
    outcomeId: 'o-1',
    tenantId: 'acme',
    correlationId: 'c-1',
    proposalId: 'p-1',
    idempotencyKey: 'k-1',
    status: ExecutionStatus.EXECUTION_STATUS_EXECUTED,
    errorClass: ErrorClass.ERROR_CLASS_NONE,
    connector: 'embedded',
    executedAt: NOW.toISOString(),
    decisionId: 'd-1',
    attempt: 1,
    ...overrides,
  });
}

function reviewDecision(overrides: Partial<ReviewDecision> = {}): ReviewDecision {
  return ReviewDecision.fromPartial({
    reviewDecisionId: 'rd-1',
    taskId: 't-1',
    tenantId: 'acme',
    correlationId: 'c-1',
    reviewerId: 'alice',
    outcome: ReviewOutcome.REVIEW_OUTCOME_APPROVE,
    decidedAt: NOW.toISOString(),
    proposalId: 'p-1',
    decisionId: 'd-1',
    ...overrides,
  });
}

const isSkip = (r: unknown): r is { skip: string } =>
  typeof r === 'object' && r !== null && 'skip' in r;

describe('TrustEvidenceRouter', () => {
  describe('fromExecution', () => {
    it('attributes a success to the agent and action type of the recorded decision', async () => {
      const { router } = await routerSetup();
      const e = await router.fromExecution(outcome());
      expect(e).toEqual(
        TrustEvidence.fromPartial({
          eventId: 'o-1',
          tenantId: 'acme',
          agentId: AGENT,
          actionType: 'qualify_lead',
          kind: 'execution_success',
          occurredAt: NOW.toISOString(),
          correlationId: 'c-1',
        }),
      );
    });

    it("never takes the agent from the outcome's producer: the decision document decides", async () => {
      const { decisions, router } = await routerSetup();
      await decisions.insert(
        ACME,
        decisionDoc({ id: 'p-2', agentId: 'deal-desk', actionType: 'apply_discount' }),
      );
      const e = await router.fromExecution(outcome({ outcomeId: 'o-2', proposalId: 'p-2' }));
      expect(e).toMatchObject({ agentId: 'deal-desk', actionType: 'apply_discount' });
    });

    it.each([
      [ExecutionStatus.EXECUTION_STATUS_FAILED, ErrorClass.ERROR_CLASS_PERMANENT],
      [ExecutionStatus.EXECUTION_STATUS_FAILED, ErrorClass.ERROR_CLASS_UNSPECIFIED],
      [ExecutionStatus.EXECUTION_STATUS_REFUSED, ErrorClass.ERROR_CLASS_PERMANENT],
      [ExecutionStatus.EXECUTION_STATUS_UNSPECIFIED, ErrorClass.ERROR_CLASS_PERMANENT],
    ])(
      'counts status %s with error class %s as an execution_failure',
      async (status, errorClass) => {
        const { router } = await routerSetup();
        const e = await router.fromExecution(outcome({ status, errorClass }));
        expect(isSkip(e)).toBe(false);
        expect(e).toMatchObject({ kind: 'execution_failure', agentId: AGENT, eventId: 'o-1' });
      },
    );

    it('counts a compensated execution as rolled back', async () => {
      const { router } = await routerSetup();
      const e = await router.fromExecution(
        outcome({ status: ExecutionStatus.EXECUTION_STATUS_COMPENSATED }),
      );
      expect(e).toMatchObject({ kind: 'execution_rolled_back' });
    });

    it.each([
      [
        'a retryable failure (timeout)',
        ExecutionStatus.EXECUTION_STATUS_FAILED,
        ErrorClass.ERROR_CLASS_RETRYABLE,
      ],
      [
        'an expired credential',
        ExecutionStatus.EXECUTION_STATUS_FAILED,
        ErrorClass.ERROR_CLASS_AUTH_EXPIRED,
      ],
      [
        'a token problem',
        ExecutionStatus.EXECUTION_STATUS_REFUSED,
        ErrorClass.ERROR_CLASS_TOKEN_INVALID,
      ],
      [
        'a record changed under the agent',
        ExecutionStatus.EXECUTION_STATUS_FAILED,
        ErrorClass.ERROR_CLASS_CONFLICT,
      ],
      [
        'a suppressed duplicate',
        ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED,
        ErrorClass.ERROR_CLASS_NONE,
      ],
    ])('skips %s', async (_name, status, errorClass) => {
      const { router } = await routerSetup();
      const e = await router.fromExecution(outcome({ status, errorClass }));
      expect(isSkip(e)).toBe(true);
    });

    it('skips an outcome for a proposal policy never decided', async () => {
      const { router } = await routerSetup();
      const e = await router.fromExecution(outcome({ proposalId: 'p-unknown' }));
      expect(isSkip(e)).toBe(true);
      expect((e as { skip: string }).skip).toContain('p-unknown');
    });

    it("skips an outcome naming another tenant's proposal (tenant isolation)", async () => {
      const { router } = await routerSetup();
      expect(isSkip(await router.fromExecution(outcome({ tenantId: 'globex' })))).toBe(true);
    });

    it.each([
      ['an invalid tenant', { tenantId: 'Not A Tenant' }],
      ['an empty tenant', { tenantId: '' }],
      ['no outcome id', { outcomeId: '' }],
      ['no proposal id', { proposalId: '' }],
    ])('skips an outcome with %s', async (_name, overrides) => {
      const { router } = await routerSetup();
      expect(isSkip(await router.fromExecution(outcome(overrides)))).toBe(true);
    });

    it('skips a decision recorded without an action type (a denied unknown action)', async () => {
      const { decisions, router } = await routerSetup();
      await decisions.insert(ACME, decisionDoc({ id: 'p-3', actionType: '' }));
      expect(isSkip(await router.fromExecution(outcome({ proposalId: 'p-3' })))).toBe(true);
    });
  });

  describe('fromReview', () => {
    it.each([
      [ReviewOutcome.REVIEW_OUTCOME_APPROVE, 'review_approve'],
      [ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE, 'review_edit_approve'],
      [ReviewOutcome.REVIEW_OUTCOME_REJECT, 'review_reject'],
    ])('turns review outcome %s into %s evidence for the deciding agent', async (o, kind) => {
      const { router } = await routerSetup();
      const e = await router.fromReview(reviewDecision({ outcome: o }));
      expect(e).toEqual(
        TrustEvidence.fromPartial({
          eventId: 'rd-1',
          tenantId: 'acme',
          agentId: AGENT,
          actionType: 'qualify_lead',
          kind,
          occurredAt: NOW.toISOString(),
          correlationId: 'c-1',
        }),
      );
    });

    it('skips the SLA fail-safe rejection: nobody judged the action', async () => {
      const { router } = await routerSetup();
      const expired = reviewDecision({
        outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
        reasonCode: 'SLA_EXPIRED',
        reviewerId: 'system/sla',
      });
      expect(isSkip(await router.fromReview(expired))).toBe(true);
      const judged = reviewDecision({
        outcome: ReviewOutcome.REVIEW_OUTCOME_REJECT,
        reasonCode: 'WRONG_AMOUNT',
      });
      expect(isSkip(await router.fromReview(judged))).toBe(false);
    });

    it('skips a review that names no proposal', async () => {
      const { router } = await routerSetup();
      expect(isSkip(await router.fromReview(reviewDecision({ proposalId: '' })))).toBe(true);
    });

    it('skips an unspecified review outcome', async () => {
      const { router } = await routerSetup();
      const e = await router.fromReview(
        reviewDecision({ outcome: ReviewOutcome.REVIEW_OUTCOME_UNSPECIFIED }),
      );
      expect(isSkip(e)).toBe(true);
    });

    it('skips a review of an unknown proposal or with an invalid tenant', async () => {
      const { router } = await routerSetup();
      expect(isSkip(await router.fromReview(reviewDecision({ proposalId: 'p-x' })))).toBe(true);
      expect(isSkip(await router.fromReview(reviewDecision({ tenantId: 'ACME!' })))).toBe(true);
    });
  });
});

describe('TrustEvidenceRecorder', () => {
  function recorderSetup(config: CircuitBreakerConfig = DEFAULT_CIRCUIT_BREAKER_CONFIG) {
    const store = new InMemoryDocumentStore(TRUST_STATES);
    const trust = new TrustRepository(store);
    const breakers = new CircuitBreakers(config, undefined, () => NOW);
    return { store, trust, breakers, recorder: new TrustEvidenceRecorder(trust, breakers) };
  }

  function evidence(overrides: Partial<TrustEvidence> = {}): TrustEvidence {
    return TrustEvidence.fromPartial({
      eventId: 'ev-1',
      tenantId: 'acme',
      agentId: AGENT,
      actionType: 'qualify_lead',
      kind: 'review_approve',
      occurredAt: NOW.toISOString(),
      correlationId: 'c-1',
      ...overrides,
    });
  }

  it('applies evidence to the trust repository', async () => {
    const { recorder, trust } = recorderSetup();
    const before = await trust.get(ACME, AGENT, 'qualify_lead', NOW);
    const r = await recorder.record(evidence());
    expect(r.applied).toBe(true);
    expect(r.trips).toEqual([]);
    expect(r.assessment.evidence.review_approve).toBe(1);
    const after = await trust.get(ACME, AGENT, 'qualify_lead', NOW);
    expect(after.evidence.review_approve).toBe(1);
    expect(after.alpha).toBeGreaterThan(before.alpha);
    await recorder.record(evidence({ eventId: 'ev-2', kind: 'execution_success' }));
    const later = await trust.get(ACME, AGENT, 'qualify_lead', NOW);
    expect(later.evidence).toMatchObject({ review_approve: 1, execution_success: 1 });
  });

  it('keeps agents, action types and tenants apart', async () => {
    const { recorder, trust } = recorderSetup();
    await recorder.record(evidence());
    expect((await trust.get(ACME, AGENT, 'assign_owner', NOW)).evidence.review_approve).toBe(0);
    expect(
      (await trust.get(tenantId('globex'), AGENT, 'qualify_lead', NOW)).evidence.review_approve,
    ).toBe(0);
  });

  it('applies a redelivered event only once', async () => {
    const { recorder, trust } = recorderSetup();
    await recorder.record(evidence({ kind: 'review_reject' }));
    const once = await trust.get(ACME, AGENT, 'qualify_lead', NOW);
    const again = await recorder.record(evidence({ kind: 'review_reject' }));
    expect(again.applied).toBe(false);
    expect(again.trips).toEqual([]);
    const twice = await trust.get(ACME, AGENT, 'qualify_lead', NOW);
    expect(twice.evidence.review_reject).toBe(1);
    expect(twice.beta).toBe(once.beta);
    expect(twice.score).toBe(once.score);
  });

  it.each([
    ['an unknown kind', { kind: 'praise' }],
    ['an empty kind', { kind: '' }],
    ['an invalid tenant', { tenantId: 'Not A Tenant' }],
    ['no tenant', { tenantId: '' }],
    ['no event id', { eventId: '' }],
    ['no agent', { agentId: '' }],
    ['no action type', { actionType: '' }],
    ['no occurred_at', { occurredAt: undefined }],
    ['an unparsable occurred_at', { occurredAt: 'yesterday' }],
  ])('refuses evidence with %s, changing nothing', async (_name, overrides) => {
    const { recorder, store } = recorderSetup();
    await expect(recorder.record(evidence(overrides))).rejects.toBeInstanceOf(
      InvalidTrustEvidenceEventError,
    );
    expect(await store.count(ACME)).toBe(0);
  });

  it('trips the error-spike breaker once after maxFailures execution failures', async () => {
    const { recorder, breakers, trust } = recorderSetup({
      ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
      errorSpike: {
        windowMs: 600_000,
        maxFailures: 3,
        demoteTo: DEFAULT_CIRCUIT_BREAKER_CONFIG.errorSpike.demoteTo,
      },
    });
    const tripsPerEvent: number[] = [];
    const allTrips = [];
    for (let i = 1; i <= 5; i++) {
      const r = await recorder.record(evidence({ eventId: `f-${i}`, kind: 'execution_failure' }));
      expect(r.applied).toBe(true);
      tripsPerEvent.push(r.trips.length);
      allTrips.push(...r.trips);
    }
    expect(tripsPerEvent).toEqual([0, 0, 1, 0, 0]);
    expect(allTrips[0]).toMatchObject({
      kind: 'CIRCUIT_BREAKER_TRIPPED',
      tenantId: 'acme',
      attributes: expect.objectContaining({ agent_id: AGENT, breaker: 'error_spike' }),
    });
    expect(breakers.state('acme', AGENT).map((b) => b.kind)).toEqual(['error_spike']);
    expect((await trust.get(ACME, AGENT, 'qualify_lead', NOW)).evidence.execution_failure).toBe(5);
  });

  it('does not count a redelivered failure towards the error spike', async () => {
    const { recorder, breakers } = recorderSetup({
      ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
      errorSpike: {
        windowMs: 600_000,
        maxFailures: 2,
        demoteTo: DEFAULT_CIRCUIT_BREAKER_CONFIG.errorSpike.demoteTo,
      },
    });
    await recorder.record(evidence({ eventId: 'f-1', kind: 'execution_failure' }));
    const again = await recorder.record(evidence({ eventId: 'f-1', kind: 'execution_failure' }));
    expect(again.trips).toEqual([]);
    expect(breakers.state('acme', AGENT)).toEqual([]);
  });

  it('counts incidents as failures but not successes or reviews', async () => {
    const { recorder, breakers } = recorderSetup({
      ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
      errorSpike: {
        windowMs: 600_000,
        maxFailures: 2,
        demoteTo: DEFAULT_CIRCUIT_BREAKER_CONFIG.errorSpike.demoteTo,
      },
    });
    await recorder.record(evidence({ eventId: 's-1', kind: 'execution_success' }));
    await recorder.record(evidence({ eventId: 's-2', kind: 'execution_success' }));
    await recorder.record(evidence({ eventId: 'r-1', kind: 'review_reject' }));
    expect(breakers.state('acme', AGENT)).toEqual([]);
    await recorder.record(evidence({ eventId: 'i-1', kind: 'incident' }));
    const r = await recorder.record(evidence({ eventId: 'f-1', kind: 'execution_failure' }));
    expect(r.trips.map((t) => t.attributes['breaker'])).toEqual(['error_spike']);
  });

  it('trips the rejection-rate breaker on a spike of review rejections', async () => {
    const { recorder, breakers } = recorderSetup({
      ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
      rejectionRate: {
        windowMs: 3_600_000,
        minReviews: 3,
        threshold: 0.5,
        demoteTo: DEFAULT_CIRCUIT_BREAKER_CONFIG.rejectionRate.demoteTo,
      },
    });
    const first = await recorder.record(evidence({ eventId: 'r-1', kind: 'review_approve' }));
    const second = await recorder.record(evidence({ eventId: 'r-2', kind: 'review_reject' }));
    expect([...first.trips, ...second.trips]).toEqual([]);
    const third = await recorder.record(evidence({ eventId: 'r-3', kind: 'review_reject' }));
    expect(third.trips).toHaveLength(1);
    expect(third.trips[0]).toMatchObject({
      kind: 'CIRCUIT_BREAKER_TRIPPED',
      attributes: expect.objectContaining({ agent_id: AGENT, breaker: 'rejection_rate' }),
    });
    const fourth = await recorder.record(evidence({ eventId: 'r-4', kind: 'review_reject' }));
    expect(fourth.trips).toEqual([]);
    expect(breakers.state('acme', AGENT).map((b) => b.kind)).toEqual(['rejection_rate']);
  });

  it('does not count execution failures towards the rejection rate', async () => {
    const { recorder, breakers } = recorderSetup({
      ...DEFAULT_CIRCUIT_BREAKER_CONFIG,
      rejectionRate: {
        windowMs: 3_600_000,
        minReviews: 2,
        threshold: 0.5,
        demoteTo: DEFAULT_CIRCUIT_BREAKER_CONFIG.rejectionRate.demoteTo,
      },
      errorSpike: {
        windowMs: 600_000,
        maxFailures: 10,
        demoteTo: DEFAULT_CIRCUIT_BREAKER_CONFIG.errorSpike.demoteTo,
      },
    });
    for (let i = 0; i < 4; i++)
      await recorder.record(evidence({ eventId: `f-${i}`, kind: 'execution_failure' }));
    expect(breakers.state('acme', AGENT)).toEqual([]);
  });
});

describe('Router ▸ Recorder', () => {
  it('moves the trust of the agent that proposed the action, from a review and an execution', async () => {
    const decisions = new InMemoryDocumentStore(DECISIONS);
    await decisions.insert(ACME, decisionDoc());
    const router = new TrustEvidenceRouter(decisions);
    const trust = new TrustRepository(new InMemoryDocumentStore(TRUST_STATES));
    const recorder = new TrustEvidenceRecorder(
      trust,
      new CircuitBreakers(undefined, undefined, () => NOW),
    );
    for (const e of [
      await router.fromReview(reviewDecision()),
      await router.fromExecution(outcome()),
    ]) {
      if (isSkip(e)) throw new Error(e.skip);
      expect((await recorder.record(e)).applied).toBe(true);
    }
    const a = await trust.get(ACME, AGENT, 'qualify_lead', NOW);
    expect(a.evidence).toMatchObject({ review_approve: 1, execution_success: 1 });
  });
});
