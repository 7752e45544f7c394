import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionProposal, Verdict, type CrmAction } from '@mandate/contracts';
import type { DecisionInput, FactValue } from '../engine/decision-input';
import { parseRiskConfig, RISK_FACTORS } from './risk-model.config';
import { riskBandOf, scoreRisk } from './risk-scorer';

const CONFIG = parseRiskConfig(
  JSON.parse(readFileSync(join(__dirname, '../../../bundles/default/risk.json'), 'utf8')),
);

const KNOWN_FACTS = { customerTier: 'smb', industry: 'logistics', amountMinor: 5_000_000 };

function input(
  kind: CrmAction['kind'],
  /** null: the record could not be read. */
  attributes: Record<string, FactValue> | null = KNOWN_FACTS,
  overrides: Partial<ActionProposal> = {},
): DecisionInput {
  const proposal = ActionProposal.fromPartial({
    proposalId: 'p-1',
    tenantId: 'acme',
    agentId: 'deal-bot',
    idempotencyKey: 'k-1',
    target: { objectType: 'opportunity', recordId: 'opp-1' },
    confidence: 0.9,
    ...overrides,
  });
  proposal.action = { kind };
  return {
    proposal,
    facts: attributes
      ? {
          objectType: 'opportunity',
          recordId: 'opp-1',
          tenantId: 'acme',
          attributes,
        }
      : undefined,
    agent: {
      id: 'deal-bot',
      purpose: 'deals',
      allowedFields: [],
      ceiling: Verdict.VERDICT_AUTO,
      tenants: ['acme'],
    },
    now: new Date('2025-03-01T09:00:00Z'),
  };
}

const qualify: CrmAction['kind'] = { $case: 'qualifyLead', value: { score: 80, reason: 'fit' } };
const discount = (discountPercent: number, amountMinor = '0'): CrmAction['kind'] => ({
  $case: 'applyDiscount',
  value: { discountPercent, reason: 'r', listAmount: { currencyCode: 'EUR', amountMinor } },
});
const email: CrmAction['kind'] = {
  $case: 'sendEmail',
  value: { toContactId: 'c-1', subject: 's', body: 'b', templateId: 't' },
};

function factor(i: DecisionInput, name: string, novelty = 0): number {
  return scoreRisk(i, novelty, CONFIG).contributions.find((c) => c.factor === name)!.value;
}

describe('scoreRisk', () => {
  it('reports every factor, in order, with value × weight, summing to the score', () => {
    const r = scoreRisk(input(discount(10)), 0.3, CONFIG);
    expect(r.version).toBe('risk-1');
    expect(r.contributions.map((c) => c.factor)).toEqual([...RISK_FACTORS]);
    for (const c of r.contributions) {
      expect(c.weight).toBe(CONFIG.weights[c.factor as keyof typeof CONFIG.weights]);
      expect(c.contribution).toBeCloseTo(c.value * c.weight, 15);
      expect(c.value).toBeGreaterThanOrEqual(0);
      expect(c.value).toBeLessThanOrEqual(1);
    }
    expect(r.score).toBeCloseTo(
      r.contributions.reduce((s, c) => s + c.contribution, 0),
      15,
    );
  });

  it('is deterministic', () => {
    const i = input(discount(12.5));
    expect(scoreRisk(i, 0.4, CONFIG)).toEqual(scoreRisk(i, 0.4, CONFIG));
  });

  it('lands typical actions in sensible bands', () => {
    // Familiar agent, small customer, internal action.
    expect(scoreRisk(input(qualify), 0.05, CONFIG).band).toBe('low');
    // A 15% discount on a €50k deal for an enterprise customer.
    expect(
      scoreRisk(input(discount(15), { ...KNOWN_FACTS, customerTier: 'enterprise' }), 0.2, CONFIG)
        .band,
    ).toBe('high');
    // A 40% discount on a €500k deal, strategic bank: critical.
    expect(
      scoreRisk(
        input(discount(40), {
          customerTier: 'strategic',
          industry: 'Banking',
          amountMinor: 50_000_000,
        }),
        0.2,
        CONFIG,
      ).band,
    ).toBe('critical');
  });

  describe('monetary impact', () => {
    it('is 0 for actions that move no money', () => {
      expect(factor(input(qualify), 'monetary_impact')).toBe(0);
      expect(factor(input(email), 'monetary_impact')).toBe(0);
    });

    it('log-scales percent × the record amount between floor and full scale', () => {
      // 10% of 5,000,000 minor = 500,000: log(50) / log(1000).
      expect(factor(input(discount(10)), 'monetary_impact')).toBeCloseTo(
        Math.log(50) / Math.log(1000),
        12,
      );
      expect(factor(input(discount(0.1)), 'monetary_impact')).toBe(0); // 5,000 ≤ floor
      expect(
        factor(input(discount(100), { ...KNOWN_FACTS, amountMinor: 1e9 }), 'monetary_impact'),
      ).toBe(1);
    });

    it('lets the agent-supplied list amount raise, never lower, the impact', () => {
      const low = factor(input(discount(10, '100')), 'monetary_impact');
      const high = factor(input(discount(10, '100000000')), 'monetary_impact');
      expect(low).toBeCloseTo(Math.log(50) / Math.log(1000), 12);
      expect(high).toBe(1);
    });

    it('fails closed when the amount is unknown or the percent is invalid', () => {
      const { amountMinor: _omit, ...noAmount } = KNOWN_FACTS;
      expect(factor(input(discount(10, '1000000'), noAmount), 'monetary_impact')).toBe(1);
      expect(factor(input(discount(0)), 'monetary_impact')).toBe(1);
      expect(factor(input(discount(150)), 'monetary_impact')).toBe(1);
      expect(factor(input(discount(NaN)), 'monetary_impact')).toBe(1);
    });

    it('treats update_field on money fields as monetary', () => {
      const update = (field: string, value: string): CrmAction['kind'] => ({
        $case: 'updateField',
        value: { field, value, previousValue: '' },
      });
      expect(factor(input(update('discountPercent', '10')), 'monetary_impact')).toBeCloseTo(
        Math.log(50) / Math.log(1000),
        12,
      );
      // |5,500,000 − 5,000,000| = 500,000.
      expect(factor(input(update('amountMinor', '5500000')), 'monetary_impact')).toBeCloseTo(
        Math.log(50) / Math.log(1000),
        12,
      );
      expect(factor(input(update('amount', '12')), 'monetary_impact')).toBe(1);
      expect(factor(input(update('amountMinor', 'lots')), 'monetary_impact')).toBe(1);
      expect(factor(input(update('industry', 'retail')), 'monetary_impact')).toBe(0);
    });
  });

  describe('reversibility and external visibility', () => {
    it('use the action type, refined by variant', () => {
      const reply = (pub: boolean): CrmAction['kind'] => ({
        $case: 'replyToCase',
        value: { body: 'b', public: pub },
      });
      const move = (toStage: string): CrmAction['kind'] => ({
        $case: 'moveOpportunityStage',
        value: { fromStage: 'proposal', toStage },
      });
      expect(factor(input(qualify), 'reversibility')).toBe(0.1);
      expect(factor(input(email), 'reversibility')).toBe(1);
      expect(factor(input(reply(true)), 'reversibility')).toBe(1);
      expect(factor(input(reply(false)), 'reversibility')).toBe(0.2);
      expect(factor(input(move('negotiation')), 'reversibility')).toBe(0.3);
      expect(factor(input(move('closed_won')), 'reversibility')).toBe(0.7);
      expect(factor(input(email), 'external_visibility')).toBe(1);
      expect(factor(input(reply(false)), 'external_visibility')).toBe(0);
      expect(factor(input(discount(5)), 'external_visibility')).toBe(0.8);
      expect(factor(input(qualify), 'external_visibility')).toBe(0);
    });
  });

  describe('customer tier', () => {
    it.each([
      ['strategic', 1],
      ['Enterprise', 0.75],
      ['mid_market', 0.45],
      ['SMB', 0.2],
      ['prospect', 0.1],
      ['platinum', 1],
    ])('%s → %p', (tier, value) => {
      expect(factor(input(qualify, { ...KNOWN_FACTS, customerTier: tier }), 'customer_tier')).toBe(
        value,
      );
    });
  });

  describe('data sensitivity', () => {
    const update = (field: string): CrmAction['kind'] => ({
      $case: 'updateField',
      value: { field, value: 'x', previousValue: 'y' },
    });
    it('is the most sensitive field touched: PII high, pricing medium, public 0', () => {
      expect(factor(input(update('email')), 'data_sensitivity')).toBe(1);
      expect(factor(input(update('Phone')), 'data_sensitivity')).toBe(1);
      expect(factor(input(discount(5)), 'data_sensitivity')).toBe(0.5);
      expect(factor(input(update('industry')), 'data_sensitivity')).toBe(0);
      expect(factor(input(email), 'data_sensitivity')).toBe(1);
      expect(factor(input(qualify), 'data_sensitivity')).toBe(0.2);
    });
    it('fails closed on an unlisted field', () => {
      expect(factor(input(update('favouriteColour')), 'data_sensitivity')).toBe(1);
    });
  });

  describe('regulatory', () => {
    it.each([
      [{ industry: 'finance' }, 1],
      [{ industry: 'Health Care' }, 0], // not a listed label: "health-care"
      [{ industry: 'healthcare' }, 1],
      [{ industry: 'government' }, 0.7],
      [{ industry: 'logistics' }, 0],
      [{ industry: 'logistics', regulated: true }, 1],
      [{ industry: 'logistics', regulated: 'true' }, 1],
      [{ regulated: false }, 0],
      [{}, 1],
      [{ industry: '' }, 1],
    ] as [Record<string, FactValue>, number][])('%p → %p', (facts, value) => {
      expect(factor(input(qualify, { customerTier: 'smb', ...facts }), 'regulatory')).toBe(value);
    });
  });

  describe('model confidence and novelty', () => {
    it('uses 1 − confidence and the given novelty, failing closed on nonsense', () => {
      expect(
        factor(input(qualify, KNOWN_FACTS, { confidence: 0.8 }), 'model_confidence'),
      ).toBeCloseTo(0.2, 12);
      expect(factor(input(qualify, KNOWN_FACTS, { confidence: 1.5 }), 'model_confidence')).toBe(1);
      expect(factor(input(qualify, KNOWN_FACTS, { confidence: NaN }), 'model_confidence')).toBe(1);
      expect(factor(input(qualify), 'novelty', 0.25)).toBe(0.25);
      expect(factor(input(qualify), 'novelty', 7)).toBe(1);
      expect(factor(input(qualify), 'novelty', NaN)).toBe(1);
    });
  });

  describe('fails closed', () => {
    it('scores missing facts as the riskiest value of each fact-based factor', () => {
      const r = scoreRisk(input(discount(10), null), 0, CONFIG);
      const v = Object.fromEntries(r.contributions.map((c) => [c.factor, c.value]));
      expect(v).toMatchObject({ monetary_impact: 1, customer_tier: 1, regulatory: 1 });
    });

    it('ignores facts of another tenant or another record', () => {
      const i = input(discount(10));
      const foreign = { ...i, facts: { ...i.facts!, tenantId: 'globex' } };
      const otherRecord = { ...i, facts: { ...i.facts!, recordId: 'opp-2' } };
      expect(factor(foreign, 'customer_tier')).toBe(1);
      expect(factor(otherRecord, 'monetary_impact')).toBe(1);
    });

    it('scores an action without a kind as riskiest on every action factor', () => {
      const i = input(undefined);
      const v = Object.fromEntries(
        scoreRisk(i, 0, CONFIG).contributions.map((c) => [c.factor, c.value]),
      );
      expect(v).toMatchObject({
        monetary_impact: 1,
        reversibility: 1,
        data_sensitivity: 1,
        external_visibility: 1,
      });
    });

    it('puts everything-unknown in the critical band', () => {
      const i = input(undefined, null, { confidence: NaN });
      const r = scoreRisk(i, NaN, CONFIG);
      expect(r.score).toBeCloseTo(1, 12);
      expect(r.band).toBe('critical');
    });
  });
});

describe('riskBandOf', () => {
  it('uses lower bounds inclusively and treats NaN as critical', () => {
    expect(riskBandOf(0, CONFIG)).toBe('low');
    expect(riskBandOf(0.2999, CONFIG)).toBe('low');
    expect(riskBandOf(0.3, CONFIG)).toBe('medium');
    expect(riskBandOf(0.5, CONFIG)).toBe('high');
    expect(riskBandOf(0.7, CONFIG)).toBe('critical');
    expect(riskBandOf(1, CONFIG)).toBe('critical');
    expect(riskBandOf(NaN, CONFIG)).toBe('critical');
  });
});
