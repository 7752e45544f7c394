import type { RiskContribution } from '@mandate/contracts';
import type { DecisionInput } from '../engine/decision-input';
import {
  clampNovelty,
  customerTier,
  dataSensitivity,
  externalVisibility,
  modelConfidence,
  monetaryImpact,
  regulatory,
  reversibility,
} from './risk-factors';
import {
  RISK_BANDS,
  RISK_FACTORS,
  type RiskBand,
  type RiskFactor,
  type RiskModelConfig,
} from './risk-model.config';

/** A scored proposal: the score, its band and every factor's share of it. */
export interface RiskAssessment {
  /** Version of the risk model (risk.json) that produced it. */
  readonly version: string;
  /** 0..1; the sum of `contributions[].contribution`. */
  readonly score: number;
  readonly band: RiskBand;
  /** One entry per factor, in `RISK_FACTORS` order, including those that added 0. */
  readonly contributions: RiskContribution[];
}

/** The band a score falls in: the highest band whose lower bound it reaches. */
export function riskBandOf(score: number, config: RiskModelConfig): RiskBand {
  // NaN is not a score: fail closed to the top band.
  if (Number.isNaN(score)) return 'critical';
  let band: RiskBand = 'low';
  for (const b of RISK_BANDS) if (score >= config.bands[b]) band = b;
  return band;
}

/**
 * Scores a proposal with the bundle's factor model. Pure and deterministic: the same input,
 * novelty and config give the same assessment. `novelty` (0 familiar .. 1 never seen) comes
 * from the trust state (`noveltyOf`). Facts that are missing count as the riskiest value of
 * their factor.
 */
export function scoreRisk(
  input: DecisionInput,
  novelty: number,
  config: RiskModelConfig,
): RiskAssessment {
  const values: Record<RiskFactor, number> = {
    monetary_impact: monetaryImpact(input, config),
    reversibility: reversibility(input, config),
    customer_tier: customerTier(input, config),
    data_sensitivity: dataSensitivity(input, config),
    regulatory: regulatory(input, config),
    external_visibility: externalVisibility(input, config),
    model_confidence: modelConfidence(input),
    novelty: clampNovelty(novelty),
  };
  const contributions = RISK_FACTORS.map((factor) => {
    const weight = config.weights[factor];
    const value = values[factor];
    return { factor, value, weight, contribution: value * weight };
  });
  const sum = contributions.reduce((s, c) => s + c.contribution, 0);
  const score = Math.min(1, Math.max(0, sum));
  return { version: config.version, score, band: riskBandOf(score, config), contributions };
}
