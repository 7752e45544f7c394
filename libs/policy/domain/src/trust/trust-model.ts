import { ErrorClass, ExecutionStatus, ReviewOutcome } from '@mandate/contracts';
import { ProblemList, isPlainObject } from '../risk/bundle-config.error';
import { betaQuantile } from './beta-distribution';

/** Trust bands, least to most trusted. */
export const TRUST_BANDS = ['untrusted', 'low', 'medium', 'high'] as const;
export type TrustBand = (typeof TRUST_BANDS)[number];

/** What can happen to an agent's proposal that tells us something about the agent. */
export const TRUST_EVIDENCE_KINDS = [
  'review_approve',
  'review_edit_approve',
  'review_reject',
  'execution_success',
  'execution_failure',
  'execution_rolled_back',
  'incident',
] as const;
export type TrustEvidenceKind = (typeof TRUST_EVIDENCE_KINDS)[number];

/** One outcome, as consumed from Kafka. `eventId` makes a redelivery a no-op. */
export interface TrustEvidence {
  readonly eventId: string;
  readonly kind: TrustEvidenceKind;
  /** When the outcome happened (not when it was consumed): decay runs from here. */
  readonly at: Date;
}

/** How one kind of evidence moves the posterior. */
export interface EvidenceWeight {
  /** Added to alpha (pseudo-successes). */
  readonly success: number;
  /** Added to beta (pseudo-failures). */
  readonly failure: number;
  /**
   * Share of the success evidence gathered so far that survives this outcome (1 = all). Below 1
   * for severe outcomes: a long clean record must not make one incident a rounding error.
   */
  readonly successRetained: number;
}

export interface TrustModelConfig {
  readonly version: string;
  /** Beta prior: where a new agent (and a long-idle one) starts. */
  readonly prior: { readonly alpha: number; readonly beta: number };
  /** The score is this quantile of the posterior (a lower credible bound). */
  readonly quantile: number;
  /** Half-life of success evidence. */
  readonly successHalfLifeDays: number;
  /** Half-life of failure evidence (longer: failures are remembered longer than successes). */
  readonly failureHalfLifeDays: number;
  /** Cap on the evidence above the prior, per side, so trust never becomes unshakeable. */
  readonly maxPseudoCount: number;
  readonly evidence: Readonly<Record<TrustEvidenceKind, EvidenceWeight>>;
  /** Lower bound of each band above `untrusted` (score >= bound). */
  readonly bands: { readonly low: number; readonly medium: number; readonly high: number };
  /** Novelty = exp(−evidence / noveltyScale): 1 with no evidence, ≈ 0.37 after noveltyScale. */
  readonly noveltyScale: number;
  /** Event ids remembered per state for idempotency (most recent kept). */
  readonly maxProcessedEventIds: number;
}

/**
 * Defaults (rationale in BOUNDED-AUTONOMY.md): a new agent scores 0.05 (untrusted); a clean
 * reviewed-and-executed action adds 1.5 pseudo-successes, so it takes about 5 clean actions to
 * reach `low`, 12 to reach `medium` and 28 to reach `high`; one rejection costs a band, one
 * incident drops a `high` agent to `untrusted`.
 */
export const DEFAULT_TRUST_CONFIG: TrustModelConfig = {
  version: 'trust-1',
  prior: { alpha: 1, beta: 1 },
  quantile: 0.05,
  successHalfLifeDays: 30,
  failureHalfLifeDays: 60,
  maxPseudoCount: 200,
  evidence: {
    review_approve: { success: 1, failure: 0, successRetained: 1 },
    review_edit_approve: { success: 0.5, failure: 1, successRetained: 1 },
    review_reject: { success: 0, failure: 2, successRetained: 1 },
    execution_success: { success: 0.5, failure: 0, successRetained: 1 },
    execution_failure: { success: 0, failure: 2, successRetained: 1 },
    execution_rolled_back: { success: 0, failure: 3, successRetained: 0.5 },
    incident: { success: 0, failure: 5, successRetained: 0.2 },
  },
  bands: { low: 0.7, medium: 0.85, high: 0.93 },
  noveltyScale: 10,
  maxProcessedEventIds: 1000,
};

/** Throws `BundleConfigError` when a trust config is unusable (bands out of order, etc.). */
export function validateTrustConfig(config: TrustModelConfig, source = 'trust config'): void {
  const p = new ProblemList();
  const positive = (path: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) p.add(path, 'must be > 0');
  };
  const unit = (path: string, v: unknown, open = false) => {
    if (typeof v !== 'number' || !(open ? v > 0 && v < 1 : v >= 0 && v <= 1))
      p.add(path, `must be within ${open ? '(0, 1)' : '0..1'}`);
  };
  if (typeof config.version !== 'string' || !config.version) p.add('version', 'is required');
  positive('prior.alpha', config.prior?.alpha);
  positive('prior.beta', config.prior?.beta);
  unit('quantile', config.quantile, true);
  positive('successHalfLifeDays', config.successHalfLifeDays);
  positive('failureHalfLifeDays', config.failureHalfLifeDays);
  positive('maxPseudoCount', config.maxPseudoCount);
  positive('noveltyScale', config.noveltyScale);
  if (!Number.isInteger(config.maxProcessedEventIds) || config.maxProcessedEventIds < 1)
    p.add('maxProcessedEventIds', 'must be a positive integer');
  for (const kind of TRUST_EVIDENCE_KINDS) {
    const w = config.evidence?.[kind];
    if (!isPlainObject(w)) {
      p.add(`evidence.${kind}`, 'is missing');
      continue;
    }
    for (const side of ['success', 'failure'] as const) {
      const v = w[side];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        p.add(`evidence.${kind}.${side}`, 'must be >= 0');
    }
    unit(`evidence.${kind}.successRetained`, w.successRetained);
  }
  const b = config.bands;
  unit('bands.low', b?.low, true);
  unit('bands.medium', b?.medium, true);
  unit('bands.high', b?.high, true);
  if (b && !(b.low < b.medium && b.medium < b.high))
    p.add('bands', 'must increase: low < medium < high');
  if (b && config.prior && p.problems.length === 0) {
    const newcomer = betaQuantile(config.quantile, config.prior.alpha, config.prior.beta);
    if (newcomer >= b.low)
      p.add('prior', `a new agent would score ${newcomer.toFixed(3)}, not untrusted (< bands.low)`);
  }
  p.throwIfAny(source);
}

/** Posterior for one tenant × agent × action type. `alpha`/`beta` are as of `updatedAt`. */
export interface TrustState {
  readonly agentId: string;
  readonly actionType: string;
  readonly alpha: number;
  readonly beta: number;
  /** How many outcomes of each kind were recorded (raw counts, not decayed). */
  readonly evidence: Readonly<Record<TrustEvidenceKind, number>>;
  readonly updatedAt: Date;
  /** Most recent last; bounded by `maxProcessedEventIds`. */
  readonly processedEventIds: readonly string[];
}

/** What policy uses: the score (lower credible bound) and band at a given instant. */
export interface TrustAssessment {
  readonly version: string;
  readonly agentId: string;
  readonly actionType: string;
  /** Lower credible bound: the `quantile` of Beta(alpha, beta). */
  readonly score: number;
  readonly band: TrustBand;
  readonly alpha: number;
  readonly beta: number;
  /** Posterior mean, for display: the score is what decisions use. */
  readonly mean: number;
  /** 0 familiar .. 1 never seen: the novelty risk factor for this agent and action type. */
  readonly novelty: number;
  readonly evidence: Readonly<Record<TrustEvidenceKind, number>>;
  /** The instant the assessment is for. */
  readonly asOf: Date;
}

const DAY_MS = 86_400_000;

function zeroCounts(): Record<TrustEvidenceKind, number> {
  return Object.fromEntries(TRUST_EVIDENCE_KINDS.map((k) => [k, 0])) as Record<
    TrustEvidenceKind,
    number
  >;
}

export function newTrustState(
  agentId: string,
  actionType: string,
  at: Date,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): TrustState {
  return {
    agentId,
    actionType,
    alpha: config.prior.alpha,
    beta: config.prior.beta,
    evidence: zeroCounts(),
    updatedAt: new Date(at.getTime()),
    processedEventIds: [],
  };
}

function decayFactor(ms: number, halfLifeDays: number): number {
  return Math.pow(2, -Math.max(0, ms) / (halfLifeDays * DAY_MS));
}

/**
 * The state as of `now`: the evidence above the prior shrinks exponentially with its half-life,
 * so an idle agent drifts back towards the prior (untrusted) and an old failure fades. A `now`
 * before `updatedAt` changes nothing (time never runs backwards).
 */
export function decayTrust(
  state: TrustState,
  now: Date,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): TrustState {
  const ms = now.getTime() - state.updatedAt.getTime();
  if (!(ms > 0)) return state;
  const { prior } = config;
  return {
    ...state,
    alpha: prior.alpha + (state.alpha - prior.alpha) * decayFactor(ms, config.successHalfLifeDays),
    beta: prior.beta + (state.beta - prior.beta) * decayFactor(ms, config.failureHalfLifeDays),
    updatedAt: new Date(now.getTime()),
  };
}

export class InvalidTrustEvidenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTrustEvidenceError';
  }
}

function assertEvidence(evidence: TrustEvidence): void {
  if (typeof evidence.eventId !== 'string' || evidence.eventId === '')
    throw new InvalidTrustEvidenceError('trust evidence needs an eventId (idempotency)');
  if (!(TRUST_EVIDENCE_KINDS as readonly string[]).includes(evidence.kind))
    throw new InvalidTrustEvidenceError(`unknown trust evidence kind "${String(evidence.kind)}"`);
  if (!(evidence.at instanceof Date) || Number.isNaN(evidence.at.getTime()))
    throw new InvalidTrustEvidenceError('trust evidence needs a valid `at` date');
}

/**
 * Applies one outcome. Idempotent: an `eventId` already processed returns the state unchanged
 * with `applied: false`. Evidence older than `updatedAt` (a late or reordered event) is added
 * already decayed by its age, so arrival order barely matters (only `successRetained` is
 * applied to whatever success evidence exists when the severe outcome arrives).
 */
export function applyTrustEvidence(
  state: TrustState,
  evidence: TrustEvidence,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): { state: TrustState; applied: boolean } {
  assertEvidence(evidence);
  if (state.processedEventIds.includes(evidence.eventId)) return { state, applied: false };
  const current = decayTrust(state, evidence.at, config);
  const age = current.updatedAt.getTime() - evidence.at.getTime();
  const w = config.evidence[evidence.kind];
  const { prior, maxPseudoCount } = config;
  const successExcess =
    (current.alpha - prior.alpha) * w.successRetained +
    w.success * decayFactor(age, config.successHalfLifeDays);
  const failureExcess =
    current.beta - prior.beta + w.failure * decayFactor(age, config.failureHalfLifeDays);
  const processed = [...current.processedEventIds, evidence.eventId];
  return {
    applied: true,
    state: {
      ...current,
      alpha: prior.alpha + Math.min(maxPseudoCount, successExcess),
      beta: prior.beta + Math.min(maxPseudoCount, failureExcess),
      evidence: { ...current.evidence, [evidence.kind]: current.evidence[evidence.kind] + 1 },
      processedEventIds: processed.slice(-config.maxProcessedEventIds),
    },
  };
}

/** The band a trust score falls in. NaN is untrusted (fail closed). */
export function trustBandOf(
  score: number,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): TrustBand {
  if (score >= config.bands.high) return 'high';
  if (score >= config.bands.medium) return 'medium';
  if (score >= config.bands.low) return 'low';
  return 'untrusted';
}

/** Lower credible bound of the posterior (no decay applied: pass a decayed state). */
export function trustScoreOf(
  state: TrustState,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): number {
  return betaQuantile(config.quantile, state.alpha, state.beta);
}

/**
 * How unlike this agent's past actions of this type a new one is: 1 with no evidence above the
 * prior, falling exponentially with the (decayed) amount of evidence. Failures count as
 * experience too; whether the experience was good is trust's business, not novelty's.
 */
export function noveltyOf(
  state: TrustState,
  now: Date,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): number {
  const s = decayTrust(state, now, config);
  const experience = Math.max(0, s.alpha - config.prior.alpha + (s.beta - config.prior.beta));
  return Math.exp(-experience / config.noveltyScale);
}

/** Score, band and novelty of a state as of `now`. */
export function assessTrust(
  state: TrustState,
  now: Date,
  config: TrustModelConfig = DEFAULT_TRUST_CONFIG,
): TrustAssessment {
  const s = decayTrust(state, now, config);
  const score = trustScoreOf(s, config);
  return {
    version: config.version,
    agentId: s.agentId,
    actionType: s.actionType,
    score,
    band: trustBandOf(score, config),
    alpha: s.alpha,
    beta: s.beta,
    mean: s.alpha / (s.alpha + s.beta),
    novelty: noveltyOf(s, s.updatedAt, config),
    evidence: { ...s.evidence },
    asOf: new Date(Math.max(now.getTime(), s.updatedAt.getTime())),
  };
}

/** The trust evidence a review outcome is; undefined for an outcome that says nothing. */
export function trustEvidenceKindOfReview(outcome: ReviewOutcome): TrustEvidenceKind | undefined {
  switch (outcome) {
    case ReviewOutcome.REVIEW_OUTCOME_APPROVE:
      return 'review_approve';
    case ReviewOutcome.REVIEW_OUTCOME_EDIT_APPROVE:
      return 'review_edit_approve';
    case ReviewOutcome.REVIEW_OUTCOME_REJECT:
      return 'review_reject';
    default:
      return undefined;
  }
}

/** Error classes that say nothing about the agent: the platform, the CRM or a credential failed. */
const NOT_THE_AGENTS_DOING = new Set<ErrorClass>([
  ErrorClass.ERROR_CLASS_RETRYABLE,
  ErrorClass.ERROR_CLASS_AUTH_EXPIRED,
  ErrorClass.ERROR_CLASS_TOKEN_INVALID,
  ErrorClass.ERROR_CLASS_CONFLICT,
]);

/**
 * The trust evidence an execution outcome is. Only outcomes the agent is answerable for count:
 * a timeout, an expired credential, a token problem or a record changed under it do not; an
 * unknown status counts as a failure (the proto says UNSPECIFIED means FAILED).
 */
export function trustEvidenceKindOfExecution(
  status: ExecutionStatus,
  errorClass: ErrorClass,
): TrustEvidenceKind | undefined {
  switch (status) {
    case ExecutionStatus.EXECUTION_STATUS_EXECUTED:
      return 'execution_success';
    case ExecutionStatus.EXECUTION_STATUS_COMPENSATED:
      return 'execution_rolled_back';
    case ExecutionStatus.EXECUTION_STATUS_DUPLICATE_SUPPRESSED:
      return undefined;
    default:
      // FAILED, REFUSED (consent, unsupported action...) and UNSPECIFIED.
      return NOT_THE_AGENTS_DOING.has(errorClass) ? undefined : 'execution_failure';
  }
}
