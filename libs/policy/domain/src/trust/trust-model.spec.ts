import { ErrorClass, ExecutionStatus, ReviewOutcome } from '@mandate/contracts';
import { BundleConfigError } from '../risk/bundle-config.error';
import {
  DEFAULT_TRUST_CONFIG as C,
  InvalidTrustEvidenceError,
  applyTrustEvidence,
  assessTrust,
  decayTrust,
  newTrustState,
  noveltyOf,
  trustBandOf,
  trustEvidenceKindOfExecution,
  trustEvidenceKindOfReview,
  validateTrustConfig,
  type TrustEvidenceKind,
  type TrustModelConfig,
  type TrustState,
} from './trust-model';

const T0 = new Date('2025-03-01T09:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);

let seq = 0;
function record(s: TrustState, kind: TrustEvidenceKind, when: Date): TrustState {
  return applyTrustEvidence(s, { eventId: `ev-${++seq}`, kind, at: when }, C).state;
}

/** A proposal approved by a reviewer and then executed successfully. */
function cleanAction(s: TrustState, when: Date): TrustState {
  return record(record(s, 'review_approve', when), 'execution_success', when);
}

/** Runs `n` clean actions an hour apart; returns the state and the band after each. */
function cleanRun(n: number, from = newTrustState('agent-1', 'qualify_lead', T0)) {
  let s = from;
  const bands: string[] = [];
  for (let i = 1; i <= n; i++) {
    s = cleanAction(s, at(i * HOUR));
    bands.push(assessTrust(s, at(i * HOUR), C).band);
  }
  return { state: s, bands, end: at(n * HOUR) };
}

describe('a new agent', () => {
  it('starts untrusted: its lower bound is the prior 5% quantile', () => {
    const a = assessTrust(newTrustState('agent-1', 'send_email', T0), T0, C);
    expect(a.score).toBeCloseTo(0.05, 10);
    expect(a.band).toBe('untrusted');
    expect(a.novelty).toBe(1);
    expect(a.mean).toBe(0.5);
  });
});

describe('promotion (earns slowly)', () => {
  it('moves up one band at a time: low after 5 clean actions, medium after 12, high after 28', () => {
    const { bands } = cleanRun(30);
    expect(bands.indexOf('low') + 1).toBe(5);
    expect(bands.indexOf('medium') + 1).toBe(12);
    expect(bands.indexOf('high') + 1).toBe(28);
    // Never skips a band and never moves down on good news.
    const order = ['untrusted', 'low', 'medium', 'high'];
    for (let i = 1; i < bands.length; i++)
      expect(order.indexOf(bands[i]) - order.indexOf(bands[i - 1])).toBeGreaterThanOrEqual(0);
    expect(new Set(bands)).toEqual(new Set(order));
  });

  it('counts unreviewed executions for less than reviewed approvals', () => {
    let s = newTrustState('agent-1', 'qualify_lead', T0);
    for (let i = 1; i <= 12; i++) s = record(s, 'execution_success', at(i * HOUR));
    expect(assessTrust(s, at(12 * HOUR), C).band).toBe('untrusted');
  });
});

describe('demotion (loses fast)', () => {
  const high = cleanRun(30);

  it('starts from a high-trust agent', () => {
    expect(assessTrust(high.state, high.end, C).band).toBe('high');
  });

  it.each([
    ['review_reject', 'medium'],
    ['execution_failure', 'medium'],
    ['review_edit_approve', 'medium'],
    ['execution_rolled_back', 'low'],
    ['incident', 'untrusted'],
  ] as const)('one %s drops a high agent to %s', (kind, band) => {
    const s = record(high.state, kind, at(31 * HOUR));
    expect(assessTrust(s, at(31 * HOUR), C).band).toBe(band);
  });

  it('takes many clean actions to win back what one rejection cost', () => {
    let s = record(high.state, 'review_reject', at(31 * HOUR));
    let needed = 0;
    while (assessTrust(s, at((32 + needed) * HOUR), C).band !== 'high') {
      needed++;
      s = cleanAction(s, at((32 + needed) * HOUR));
    }
    expect(needed).toBeGreaterThanOrEqual(10);
  });

  it('an incident wipes most success evidence, even of a very experienced agent', () => {
    const veteran = cleanRun(300).state; // capped at maxPseudoCount
    expect(veteran.alpha).toBe(C.prior.alpha + C.maxPseudoCount);
    const s = record(veteran, 'incident', at(301 * HOUR));
    expect(['untrusted', 'low']).toContain(assessTrust(s, at(301 * HOUR), C).band);
  });
});

describe('decay', () => {
  const high = cleanRun(40);

  it('drifts an idle agent back towards the prior: high → medium → low → untrusted', () => {
    const bandAfter = (days: number) => assessTrust(high.state, at(40 * HOUR + days * DAY), C).band;
    expect(bandAfter(1)).toBe('high');
    expect(bandAfter(30)).toBe('medium');
    expect(bandAfter(60)).toBe('low');
    expect(bandAfter(120)).toBe('untrusted');
  });

  it('halves success evidence every 30 days and failure evidence every 60', () => {
    let s = record(newTrustState('a', 'close_case', T0), 'review_approve', T0);
    s = record(s, 'review_reject', T0);
    const later = decayTrust(s, at(60 * DAY), C);
    expect(later.alpha - C.prior.alpha).toBeCloseTo(0.25, 12);
    expect(later.beta - C.prior.beta).toBeCloseTo(1, 12);
  });

  it('never goes below the prior, and never runs backwards in time', () => {
    const far = decayTrust(high.state, at(10_000 * DAY), C);
    expect(far.alpha).toBeGreaterThanOrEqual(C.prior.alpha);
    expect(far.alpha).toBeCloseTo(C.prior.alpha, 6);
    expect(decayTrust(high.state, T0, C)).toBe(high.state);
  });

  it('adds a late event already decayed by its age, so arrival order does not matter', () => {
    const base = cleanRun(5).state;
    const e1 = { eventId: 'x1', kind: 'review_reject' as const, at: at(10 * DAY) };
    const e2 = { eventId: 'x2', kind: 'review_approve' as const, at: at(20 * DAY) };
    const inOrder = applyTrustEvidence(applyTrustEvidence(base, e1, C).state, e2, C).state;
    const reversed = applyTrustEvidence(applyTrustEvidence(base, e2, C).state, e1, C).state;
    expect(reversed.alpha).toBeCloseTo(inOrder.alpha, 12);
    expect(reversed.beta).toBeCloseTo(inOrder.beta, 12);
    expect(reversed.updatedAt).toEqual(inOrder.updatedAt);
  });
});

describe('idempotency', () => {
  it('does not count a redelivered event twice', () => {
    const s0 = newTrustState('a', 'assign_owner', T0);
    const ev = { eventId: 'review-42', kind: 'review_reject' as const, at: at(HOUR) };
    const first = applyTrustEvidence(s0, ev, C);
    const again = applyTrustEvidence(first.state, ev, C);
    expect(first.applied).toBe(true);
    expect(again.applied).toBe(false);
    expect(again.state).toBe(first.state);
    expect(again.state.evidence.review_reject).toBe(1);
  });

  it('remembers a bounded number of event ids, most recent kept', () => {
    const cfg: TrustModelConfig = { ...C, maxProcessedEventIds: 3 };
    let s = newTrustState('a', 'assign_owner', T0, cfg);
    for (let i = 1; i <= 5; i++)
      s = applyTrustEvidence(s, { eventId: `e${i}`, kind: 'review_approve', at: at(i) }, cfg).state;
    expect(s.processedEventIds).toEqual(['e3', 'e4', 'e5']);
  });

  it('refuses evidence without an event id, with an unknown kind or an invalid date', () => {
    const s = newTrustState('a', 'assign_owner', T0);
    expect(() => applyTrustEvidence(s, { eventId: '', kind: 'incident', at: T0 }, C)).toThrow(
      InvalidTrustEvidenceError,
    );
    expect(() =>
      applyTrustEvidence(s, { eventId: 'e', kind: 'praise' as TrustEvidenceKind, at: T0 }, C),
    ).toThrow(InvalidTrustEvidenceError);
    expect(() =>
      applyTrustEvidence(s, { eventId: 'e', kind: 'incident', at: new Date('nope') }, C),
    ).toThrow(InvalidTrustEvidenceError);
  });
});

describe('novelty', () => {
  it('is 1 without evidence and falls with experience', () => {
    const s0 = newTrustState('a', 'apply_discount', T0);
    expect(noveltyOf(s0, T0, C)).toBe(1);
    const values = [1, 3, 10].map((n) => noveltyOf(cleanRun(n, s0).state, at(n * HOUR), C));
    expect(values[0]).toBeLessThan(1);
    expect(values[1]).toBeLessThan(values[0]);
    expect(values[2]).toBeLessThan(0.25);
  });

  it('comes back as experience decays', () => {
    const { state, end } = cleanRun(10);
    expect(noveltyOf(state, at(end.getTime() - T0.getTime() + 365 * DAY), C)).toBeGreaterThan(0.9);
  });
});

describe('bands', () => {
  it('puts NaN in untrusted (fail closed) and respects the thresholds', () => {
    expect(trustBandOf(NaN, C)).toBe('untrusted');
    expect(trustBandOf(0.6999, C)).toBe('untrusted');
    expect(trustBandOf(0.7, C)).toBe('low');
    expect(trustBandOf(0.85, C)).toBe('medium');
    expect(trustBandOf(0.93, C)).toBe('high');
  });
});

describe('evidence from events', () => {
  it('maps review outcomes', () => {
    expect(trustEvidenceKindOfReview(ReviewOutcome.REVIEW_OUTCOME_APPROVE)).toBe('review_approve');
    expect(trustEvidenceKindOfReview(ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE)).toBe(
      'review_edit_approve',
    );
    expect(trustEvidenceKindOfReview(ReviewOutcome.REVIEW_OUTCOME_REJECT)).toBe('review_reject');
    expect(trustEvidenceKindOfReview(ReviewOutcome.REVIEW_OUTCOME_UNSPECIFIED)).toBeUndefined();
  });

  it('maps execution outcomes, counting only what the agent answers for', () => {
    const S = ExecutionStatus;
    const E = ErrorClass;
    const kind = trustEvidenceKindOfExecution;
    expect(kind(S.EXECUTION_STATUS_EXECUTED, E.ERROR_CLASS_NONE)).toBe('execution_success');
    expect(kind(S.EXECUTION_STATUS_COMPENSATED, E.ERROR_CLASS_NONE)).toBe('execution_rolled_back');
    expect(kind(S.EXECUTION_STATUS_FAILED, E.ERROR_CLASS_PERMANENT)).toBe('execution_failure');
    expect(kind(S.EXECUTION_STATUS_REFUSED, E.ERROR_CLASS_PERMANENT)).toBe('execution_failure');
    expect(kind(S.EXECUTION_STATUS_UNSPECIFIED, E.ERROR_CLASS_UNSPECIFIED)).toBe(
      'execution_failure',
    );
    expect(kind(S.EXECUTION_STATUS_FAILED, E.ERROR_CLASS_RETRYABLE)).toBeUndefined();
    expect(kind(S.EXECUTION_STATUS_FAILED, E.ERROR_CLASS_CONFLICT)).toBeUndefined();
    expect(kind(S.EXECUTION_STATUS_REFUSED, E.ERROR_CLASS_TOKEN_INVALID)).toBeUndefined();
    expect(kind(S.EXECUTION_STATUS_FAILED, E.ERROR_CLASS_AUTH_EXPIRED)).toBeUndefined();
    expect(kind(S.EXECUTION_STATUS_DUPLICATE_SUPPRESSED, E.ERROR_CLASS_NONE)).toBeUndefined();
  });
});

describe('validateTrustConfig', () => {
  it('accepts the defaults', () => {
    expect(() => validateTrustConfig(C)).not.toThrow();
  });

  it('refuses bands out of order and a prior that would trust a newcomer', () => {
    expect(() =>
      validateTrustConfig({ ...C, bands: { low: 0.9, medium: 0.8, high: 0.95 } }),
    ).toThrow(/bands: must increase/);
    expect(() => validateTrustConfig({ ...C, prior: { alpha: 30, beta: 1 } })).toThrow(
      /not untrusted/,
    );
  });

  it('lists every problem', () => {
    try {
      validateTrustConfig({
        ...C,
        quantile: 1.5,
        successHalfLifeDays: 0,
        evidence: { ...C.evidence, incident: { success: 0, failure: -1, successRetained: 2 } },
      });
      throw new Error('expected a BundleConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(BundleConfigError);
      expect((e as BundleConfigError).problems).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^quantile/),
          expect.stringMatching(/^successHalfLifeDays/),
          expect.stringMatching(/^evidence\.incident\.failure/),
          expect.stringMatching(/^evidence\.incident\.successRetained/),
        ]),
      );
    }
  });
});
