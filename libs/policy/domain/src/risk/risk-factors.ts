import { actionTypeOf, type ActionProposal } from '@mandate/contracts';
import type { DecisionInput, FactValue, RecordFacts } from '../engine/decision-input';
import { normalizeLabel, type RiskModelConfig } from './risk-model.config';

// One function per factor. Each returns 0..1 (1 = riskiest) and, whenever what it needs is
// missing or unreadable, the riskiest value for that factor: risk fails closed.

const RISKIEST = 1;

/**
 * The record facts, if they are the facts of this proposal's target. Facts of another tenant
 * or another record are treated as absent rather than trusted.
 */
export function factsOf(input: DecisionInput): RecordFacts | undefined {
  const { facts, proposal } = input;
  if (!facts || facts.tenantId !== proposal.tenantId) return undefined;
  if (proposal.target && facts.recordId !== proposal.target.recordId) return undefined;
  return facts;
}

function fact(facts: RecordFacts | undefined, name: string): FactValue | undefined {
  return facts?.attributes[name];
}

/** A finite number from a fact or a rendered value ("1250000", 1250000); else undefined. */
function numeric(value: FactValue | undefined): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** The action's type, refined to a known variant where the variant's risk differs. */
export function riskActionKeys(proposal: ActionProposal): string[] {
  const type = actionTypeOf(proposal.action);
  const kind = proposal.action?.kind;
  if (!type || !kind) return [];
  if (kind.$case === 'replyToCase')
    return [kind.value.public ? 'reply_to_case.public' : 'reply_to_case.internal', type];
  if (kind.$case === 'moveOpportunityStage' && /^closed/i.test(kind.value.toStage.trim()))
    return ['move_opportunity_stage.closed', type];
  return [type];
}

function lookupByAction(table: Readonly<Record<string, number>>, proposal: ActionProposal): number {
  for (const key of riskActionKeys(proposal)) {
    const v = table[key];
    if (v !== undefined) return v;
  }
  return RISKIEST;
}

/** Money moved, log-scaled between `floorMinor` (0) and `fullScaleMinor` (1). */
export function scaleMonetary(impactMinor: number, config: RiskModelConfig): number {
  const { floorMinor, fullScaleMinor } = config.monetary;
  if (!Number.isFinite(impactMinor)) return RISKIEST;
  const impact = Math.abs(impactMinor);
  if (impact <= floorMinor) return 0;
  if (impact >= fullScaleMinor) return 1;
  return Math.log(impact / floorMinor) / Math.log(fullScaleMinor / floorMinor);
}

/**
 * Monetary impact. A discount's impact is percent × the record's `amountMinor` (from the CRM;
 * the agent's own `list_amount` only ever raises it, so understating it gains nothing). Actions
 * that move no money are 0; money whose amount cannot be read is 1.
 */
export function monetaryImpact(input: DecisionInput, config: RiskModelConfig): number {
  const kind = input.proposal.action?.kind;
  if (!kind) return RISKIEST;
  const facts = factsOf(input);
  const recordAmount = numeric(fact(facts, 'amountMinor'));
  if (kind.$case === 'applyDiscount') {
    const pct = kind.value.discountPercent;
    if (!(pct > 0 && pct <= 100) || recordAmount === undefined) return RISKIEST;
    const listed = numeric(kind.value.listAmount?.amountMinor) ?? 0;
    return scaleMonetary((Math.max(recordAmount, listed) * pct) / 100, config);
  }
  if (kind.$case === 'updateField') {
    const field = kind.value.field.trim().toLowerCase();
    const { percentFields, minorUnitFields, otherMonetaryFields } = config.monetary;
    if (percentFields.includes(field)) {
      const pct = numeric(kind.value.value);
      if (pct === undefined || pct < 0 || pct > 100 || recordAmount === undefined) return RISKIEST;
      return scaleMonetary((recordAmount * pct) / 100, config);
    }
    if (minorUnitFields.includes(field)) {
      const next = numeric(kind.value.value);
      const current = numeric(fact(facts, kind.value.field));
      if (next === undefined || current === undefined) return RISKIEST;
      return scaleMonetary(next - current, config);
    }
    if (otherMonetaryFields.includes(field)) return RISKIEST;
  }
  return 0;
}

export function reversibility(input: DecisionInput, config: RiskModelConfig): number {
  return lookupByAction(config.reversibility, input.proposal);
}

export function externalVisibility(input: DecisionInput, config: RiskModelConfig): number {
  return lookupByAction(config.externalVisibility, input.proposal);
}

/** Customer tier from the `customerTier` fact; missing or unknown tiers count as the top tier. */
export function customerTier(input: DecisionInput, config: RiskModelConfig): number {
  const tier = fact(factsOf(input), 'customerTier');
  if (typeof tier !== 'string') return RISKIEST;
  return config.customerTier[normalizeLabel(tier)] ?? RISKIEST;
}

/** Fields the action writes or exposes, lower-cased; undefined for an action policy cannot read. */
export function fieldsTouched(
  proposal: ActionProposal,
  config: RiskModelConfig,
): string[] | undefined {
  const kind = proposal.action?.kind;
  if (!kind) return undefined;
  if (kind.$case === 'updateField') return [kind.value.field.trim().toLowerCase()];
  const type = actionTypeOf(proposal.action);
  const listed = type ? config.dataSensitivity.actionFields[type] : undefined;
  return listed ? [...listed] : undefined;
}

/** The most sensitive field the action touches; an unknown action or field fails closed. */
export function dataSensitivity(input: DecisionInput, config: RiskModelConfig): number {
  const fields = fieldsTouched(input.proposal, config);
  if (!fields) return RISKIEST;
  const { fields: table, unknownField } = config.dataSensitivity;
  return fields.reduce((max, f) => Math.max(max, table[f] ?? unknownField), 0);
}

function truthy(value: FactValue | undefined): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (v === 'true') return true;
    if (v === 'false') return false;
  }
  return undefined;
}

/**
 * Regulatory exposure: 1 when the record says `regulated`, else the configured value of its
 * `industry`. With neither fact present, 1: an unknown customer may well be a bank.
 */
export function regulatory(input: DecisionInput, config: RiskModelConfig): number {
  const facts = factsOf(input);
  const flag = truthy(fact(facts, 'regulated'));
  const industry = fact(facts, 'industry');
  if (flag === true) return 1;
  const industryValue =
    typeof industry === 'string' && industry.trim() !== ''
      ? (config.regulatory.industries[normalizeLabel(industry)] ?? 0)
      : undefined;
  if (industryValue !== undefined) return industryValue;
  return flag === false ? 0 : RISKIEST;
}

/** 1 − the agent's confidence; a confidence outside 0..1 is unreadable, hence 1. */
export function modelConfidence(input: DecisionInput): number {
  const c = input.proposal.confidence;
  if (typeof c !== 'number' || !(c >= 0 && c <= 1)) return RISKIEST;
  return 1 - c;
}

/** Novelty as given (0 familiar .. 1 never seen); anything unreadable is 1. */
export function clampNovelty(novelty: number): number {
  if (typeof novelty !== 'number' || Number.isNaN(novelty)) return RISKIEST;
  return Math.min(1, Math.max(0, novelty));
}
