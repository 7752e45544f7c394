import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { ActionProposal, Verdict } from '@mandate/contracts';
import type { AgentProfile, DecisionInput } from '../engine/decision-input';
import { readBundleFiles } from './bundle-directory.loader';
import { parseBundle } from './bundle.parser';
import { validateBundle } from './bundle.validator';
import { CedarEvaluator } from './cedar.evaluator';
import { mapToCedarRequest } from './cedar-request.mapper';
import { readSchemaModel } from './cedar-schema.model';
import {
  DEAL_DESK,
  DEFAULT_BUNDLE_DIR,
  discount,
  input,
  minimalBundleFiles,
  proposal,
} from './cedar-test.fixtures';
import type { PolicyBundle } from './policy-bundle.model';

let bundle: PolicyBundle;
let evaluator: CedarEvaluator;
beforeAll(async () => {
  bundle = parseBundle(await readBundleFiles(DEFAULT_BUNDLE_DIR));
  const built = CedarEvaluator.fromBundle(bundle);
  if (!built.ok) throw new Error(built.errors.join('\n'));
  evaluator = built.evaluator;
});
afterEach(() => jest.restoreAllMocks());

// A pass-through copy of the wasm bindings whose functions can be spied on (the bindings' own
// exports are not redefinable); only the INTERNAL_ERROR test replaces one.
jest.mock('@cedar-policy/cedar-wasm/nodejs', () => ({
  __esModule: true,
  ...jest.requireActual('@cedar-policy/cedar-wasm/nodejs'),
}));

const agent = (id: string): AgentProfile => {
  const found = bundle.agents.find((a) => a.id === id);
  if (!found) throw new Error(`no agent ${id}`);
  return found;
};
const smallDeal = { industry: 'manufacturing', amountMinor: 500000 };
const denyWith = (reason: string) =>
  expect.objectContaining({
    decision: 'deny',
    reasonCodes: expect.arrayContaining([reason]),
    obligations: [],
  });

describe('CedarEvaluator: outcome', () => {
  it('allows, naming the permit that matched with its annotations', () => {
    expect(evaluator.evaluate(input(discount(10), DEAL_DESK, smallDeal))).toEqual({
      decision: 'allow',
      matched: [
        { id: 'permit.own-tenant', effect: 'permit', annotations: { id: 'permit.own-tenant' } },
      ],
      reasonCodes: [],
      obligations: [],
      errors: [],
    });
  });

  it('carries a permit’s obligation (regulated industry) and only that permit matches', () => {
    const outcome = evaluator.evaluate(
      input(discount(10), DEAL_DESK, { industry: 'finance', amountMinor: 500000 }),
    );
    expect(outcome).toEqual({
      decision: 'allow',
      matched: [
        {
          id: 'permit.regulated-industry',
          effect: 'permit',
          annotations: { id: 'permit.regulated-industry', obligation: 'human_review' },
        },
      ],
      reasonCodes: [],
      obligations: ['human_review'],
      errors: [],
    });
  });

  it('denies with the @reason of every matched forbid', () => {
    // 30 % on an opportunity of another tenant: both the tenancy and the ceiling forbid.
    const p = discount(30);
    const outcome = evaluator.evaluate({
      ...input(p, DEAL_DESK, smallDeal),
      facts: {
        objectType: 'opportunity',
        recordId: 'opp-1',
        tenantId: 'globex',
        attributes: smallDeal,
      },
    });
    expect(outcome.decision).toBe('deny');
    expect([...outcome.reasonCodes].sort()).toEqual(['CROSS_TENANT', 'DISCOUNT_OVER_CEILING']);
    expect(outcome.matched.map((m) => m.id).sort()).toEqual([
      'discount.ceiling.small-deal',
      'tenant.isolation',
    ]);
    expect(outcome.matched.every((m) => m.effect === 'forbid')).toBe(true);
  });
});

describe('CedarEvaluator: entity and context mapping', () => {
  it('drops facts the schema does not declare (PII, notes) instead of failing', () => {
    const outcome = evaluator.evaluate(
      input(discount(10), DEAL_DESK, {
        ...smallDeal,
        name: 'Dana Whitfield',
        email: 'dana@x.example',
        notes: '…',
      }),
    );
    expect(outcome.decision).toBe('allow');
  });

  it('converts lossless renderings (integer strings, "true"/"false") and drops the rest', () => {
    expect(
      evaluator.evaluate(
        input(discount(10), DEAL_DESK, { industry: 'manufacturing', amountMinor: '500000' }),
      ).decision,
    ).toBe('allow');
    for (const amountMinor of ['5000.50', 5000.5, '1e6', '99999999999999999999', true])
      expect(
        evaluator.evaluate(
          input(discount(1), DEAL_DESK, { industry: 'manufacturing', amountMinor }),
        ),
      ).toEqual(
        expect.objectContaining({
          decision: 'deny',
          reasonCodes: ['DISCOUNT_OVER_CEILING'],
          matched: [expect.objectContaining({ id: 'discount.deal-size-unknown' })],
        }),
      );
    const email = proposal(
      { sendEmail: { toContactId: 'lead-1', subject: 's', body: 'b', templateId: '' } },
      { objectType: 'lead', recordId: 'lead-1' },
      'outreach',
    );
    expect(
      evaluator.evaluate(
        input(email, agent('outreach'), {
          industry: 'retail',
          emailConsent: 'true',
          optedOut: 'false',
        }),
      ).decision,
    ).toBe('allow');
    expect(
      evaluator.evaluate(
        input(email, agent('outreach'), { industry: 'retail', emailConsent: 1, optedOut: 0 }),
      ),
    ).toEqual(denyWith('NO_CONSENT'));
  });

  it('takes the owning tenant from the facts, never from an attribute called "tenant"', () => {
    const outcome = evaluator.evaluate({
      ...input(discount(10), DEAL_DESK, smallDeal),
      facts: {
        objectType: 'opportunity',
        recordId: 'opp-1',
        tenantId: 'globex',
        attributes: { ...smallDeal, tenant: 'acme' },
      },
    });
    expect(outcome).toEqual(denyWith('CROSS_TENANT'));
  });

  it('denies CROSS_TENANT for an agent not deployed in the proposal’s tenant', () => {
    const globexOnly = { ...DEAL_DESK, tenants: ['globex'] };
    expect(evaluator.evaluate(input(discount(10), globexOnly, smallDeal))).toEqual(
      denyWith('CROSS_TENANT'),
    );
    expect(evaluator.evaluate(input(discount(10, 'globex'), globexOnly, smallDeal)).decision).toBe(
      'allow',
    );
  });

  it('maps discounts to basis points rounded up, so a fraction never slips under a ceiling', () => {
    const schema = readSchemaModel(bundle.schemaText);
    if (!schema.ok) throw new Error('schema');
    const bps = (pct: number) => {
      const r = mapToCedarRequest(input(discount(pct), DEAL_DESK, smallDeal), schema.model);
      return r.ok ? r.request.context['discountBps'] : r.reason;
    };
    expect([bps(10), bps(12.5), bps(14.99), bps(10.001), bps(0.01)]).toEqual([
      1000, 1250, 1499, 1001, 1,
    ]);
    expect(bps(Number.NaN)).toBe('MALFORMED_PROPOSAL');
  });

  it('builds the context the schema declares: tenant, local clock, fields touched, parameters', () => {
    const schema = readSchemaModel(bundle.schemaText);
    if (!schema.ok) throw new Error('schema');
    const update = proposal(
      { updateField: { field: 'status', value: ' Working ', previousValue: 'New' } },
      { objectType: 'lead', recordId: 'lead-1' },
      'lead-qualification',
    );
    const r = mapToCedarRequest(
      input(
        update,
        agent('lead-qualification'),
        { industry: 'retail' },
        { now: new Date('2025-01-18T23:30:00Z'), tenantTimeZone: 'Europe/Berlin' },
      ),
      schema.model,
    );
    expect(r.ok && r.request.context).toEqual({
      tenant: { __entity: { type: 'Mandate::Tenant', id: 'acme' } },
      localHour: 0, // Sunday 00:30 in Berlin
      weekday: 7,
      fieldsTouched: ['status'],
      field: 'status',
      value: ' Working ',
      valueLower: 'working',
      previousValue: 'New',
    });
    expect(r.ok && r.request.entities).toEqual([
      {
        uid: { type: 'Mandate::Agent', id: 'lead-qualification' },
        attrs: {
          purpose: 'lead-qualification',
          allowedFields: agent('lead-qualification').allowedFields,
        },
        parents: [{ type: 'Mandate::Tenant', id: 'acme' }],
      },
      {
        uid: { type: 'Mandate::Lead', id: 'lead-1' },
        attrs: {
          tenant: { __entity: { type: 'Mandate::Tenant', id: 'acme' } },
          industry: 'retail',
        },
        parents: [{ type: 'Mandate::Tenant', id: 'acme' }],
      },
    ]);
  });
});

describe('CedarEvaluator fails closed', () => {
  const ok = () => input(discount(10), DEAL_DESK, smallDeal);

  it('no facts → FACTS_UNAVAILABLE; facts about another record → FACTS_MISMATCH', () => {
    expect(evaluator.evaluate({ ...ok(), facts: undefined })).toEqual(
      denyWith('FACTS_UNAVAILABLE'),
    );
    expect(
      evaluator.evaluate({
        ...ok(),
        facts: {
          objectType: 'opportunity',
          recordId: 'opp-2',
          tenantId: 'acme',
          attributes: smallDeal,
        },
      }),
    ).toEqual(denyWith('FACTS_MISMATCH'));
  });

  it('no agent profile, or the profile of another agent → UNKNOWN_AGENT', () => {
    expect(evaluator.evaluate({ ...ok(), agent: undefined })).toEqual(denyWith('UNKNOWN_AGENT'));
    expect(evaluator.evaluate({ ...ok(), agent: agent('outreach') })).toEqual(
      denyWith('UNKNOWN_AGENT'),
    );
  });

  it('an action without a kind, or one the schema does not declare → UNKNOWN_ACTION', () => {
    const p = ActionProposal.fromJSON({
      ...(ActionProposal.toJSON(discount(10)) as object),
      action: { somethingNew: {} },
    });
    expect(p.action?.kind).toBeUndefined();
    expect(evaluator.evaluate({ ...ok(), proposal: p })).toEqual(denyWith('UNKNOWN_ACTION'));
    expect(
      evaluator.evaluate({ ...ok(), proposal: { ...discount(10), action: undefined } }),
    ).toEqual(denyWith('UNKNOWN_ACTION'));
    // A bundle whose schema only knows apply_discount does not know qualify_lead.
    const minimal = new CedarEvaluator(parseBundle(minimalBundleFiles()));
    const qualify = proposal(
      { qualifyLead: { score: 50, reason: 'r' } },
      { objectType: 'opportunity', recordId: 'opp-1' },
      'deal-desk',
    );
    expect(minimal.evaluate(input(qualify, DEAL_DESK, smallDeal))).toEqual(
      denyWith('UNKNOWN_ACTION'),
    );
  });

  it('an object type without an entity type → UNKNOWN_RESOURCE_TYPE; a misapplied action → ACTION_NOT_APPLICABLE', () => {
    const invoice = proposal(
      { applyDiscount: { discountPercent: 5 } },
      { objectType: 'invoice', recordId: 'i-1' },
      'deal-desk',
    );
    expect(evaluator.evaluate(input(invoice, DEAL_DESK, smallDeal))).toEqual(
      denyWith('UNKNOWN_RESOURCE_TYPE'),
    );
    const onLead = proposal(
      { applyDiscount: { discountPercent: 5 } },
      { objectType: 'lead', recordId: 'l-1' },
      'deal-desk',
    );
    expect(evaluator.evaluate(input(onLead, DEAL_DESK, smallDeal))).toEqual(
      denyWith('ACTION_NOT_APPLICABLE'),
    );
  });

  it('a malformed proposal → MALFORMED_PROPOSAL', () => {
    const cases: Array<DecisionInput['proposal']> = [
      undefined as unknown as ActionProposal,
      null as unknown as ActionProposal,
      { ...discount(10), tenantId: '' },
      { ...discount(10), agentId: '' },
      { ...discount(10), target: undefined },
      {
        ...discount(10),
        action: { kind: { $case: 'applyDiscount', value: undefined } },
      } as unknown as ActionProposal,
      discount(Number.POSITIVE_INFINITY),
      proposal(
        { qualifyLead: { score: 12.5, reason: 'r' } },
        { objectType: 'lead', recordId: 'l-1' },
        'deal-desk',
      ),
      proposal(
        { updateField: { field: '', value: 'x' } },
        { objectType: 'opportunity', recordId: 'opp-1' },
        'deal-desk',
      ),
    ];
    for (const p of cases) {
      const facts = p?.target
        ? {
            objectType: p.target.objectType,
            recordId: p.target.recordId,
            tenantId: 'acme',
            attributes: smallDeal,
          }
        : undefined;
      expect(evaluator.evaluate({ ...ok(), proposal: p, facts })).toEqual(
        denyWith('MALFORMED_PROPOSAL'),
      );
    }
  });

  it('an invalid time zone or instant → INVALID_CLOCK', () => {
    expect(evaluator.evaluate({ ...ok(), tenantTimeZone: 'Mars/Olympus_Mons' })).toEqual(
      denyWith('INVALID_CLOCK'),
    );
    expect(evaluator.evaluate({ ...ok(), now: new Date('not a date') })).toEqual(
      denyWith('INVALID_CLOCK'),
    );
  });

  it('a required attribute that cannot be supplied → MISSING_ATTRIBUTE', () => {
    const strictSchema = minimalBundleFiles({
      'schema.cedarschema': `namespace Mandate {
        entity Tenant;
        entity Agent in [Tenant] { purpose: String, allowedFields: Set<String> };
        entity Opportunity in [Tenant] { tenant: Tenant, amountMinor: Long };
        action apply_discount appliesTo { principal: [Agent], resource: [Opportunity],
          context: { tenant: Tenant, discountBps: Long } };
      }`,
    });
    const ev = new CedarEvaluator(parseBundle(strictSchema));
    expect(ev.evaluate(input(discount(10), DEAL_DESK, { amountMinor: 'lots' }))).toEqual(
      denyWith('MISSING_ATTRIBUTE'),
    );
    expect(ev.evaluate(input(discount(10), DEAL_DESK, { amountMinor: 5 })).decision).toBe('allow');
    const needsApprover = minimalBundleFiles({
      'schema.cedarschema': `namespace Mandate {
        entity Tenant;
        entity Agent in [Tenant] { purpose: String, allowedFields: Set<String> };
        entity Opportunity in [Tenant] { tenant: Tenant };
        action apply_discount appliesTo { principal: [Agent], resource: [Opportunity],
          context: { tenant: Tenant, discountBps: Long, approvedBy: String } };
      }`,
    });
    const outcome = new CedarEvaluator(parseBundle(needsApprover)).evaluate(
      input(discount(10), DEAL_DESK, {}),
    );
    expect(outcome).toEqual(denyWith('MISSING_ATTRIBUTE'));
    expect(outcome.errors[0]).toMatch(/approvedBy/);
  });

  it('a failure answer from Cedar (entities that do not conform) → CEDAR_FAILURE', () => {
    const enumTenants = minimalBundleFiles({
      'schema.cedarschema': `namespace Mandate {
        entity Tenant enum ["acme"];
        entity Agent in [Tenant] { purpose: String, allowedFields: Set<String> };
        entity Opportunity in [Tenant] { tenant: Tenant, amountMinor?: Long };
        action apply_discount appliesTo { principal: [Agent], resource: [Opportunity],
          context: { tenant: Tenant, discountBps: Long } };
      }`,
    });
    const b = parseBundle(enumTenants);
    expect(validateBundle(b).ok).toBe(true);
    const ev = new CedarEvaluator(b);
    expect(ev.evaluate(input(discount(10), DEAL_DESK, {})).decision).toBe('allow');
    const outcome = ev.evaluate(input(discount(10, 'globex'), DEAL_DESK, {}));
    expect(outcome).toEqual(denyWith('CEDAR_FAILURE'));
    expect(outcome.errors.join(' ')).toMatch(/globex/);
  });

  it('an exception inside Cedar → INTERNAL_ERROR, never a throw', () => {
    jest.spyOn(cedar, 'statefulIsAuthorized').mockImplementation(() => {
      throw new Error('RuntimeError: unreachable');
    });
    expect(evaluator.evaluate(ok())).toEqual(denyWith('INTERNAL_ERROR'));
  });

  it('no permit matching and no forbid → NO_PERMIT (Cedar’s default deny)', () => {
    const acmeOnly = minimalBundleFiles({
      'policies/main.cedar':
        '@id("permit.acme") permit (principal, action, resource) when { context.tenant == Mandate::Tenant::"acme" };',
    });
    const ev = new CedarEvaluator(parseBundle(acmeOnly));
    expect(ev.evaluate(input(discount(10, 'globex'), DEAL_DESK, {}))).toEqual({
      decision: 'deny',
      matched: [],
      reasonCodes: ['NO_PERMIT'],
      obligations: [],
      errors: [],
    });
  });

  describe('an evaluation error denies: Cedar skips an erroring policy, so a forbid can silently not apply', () => {
    // The ceiling forbid reads amountMinor without `has`: it errors when the fact is missing.
    const unguarded = minimalBundleFiles({
      'policies/main.cedar':
        '@id("permit.all") permit (principal, action, resource);\n' +
        '@id("discount.ceiling") @reason("DISCOUNT_OVER_CEILING")\n' +
        'forbid (principal, action, resource) when { resource.amountMinor < 1000000 && context.discountBps > 1000 };',
    });

    it('the strict validator refuses such a bundle', () => {
      const result = validateBundle(parseBundle(unguarded));
      expect(result.ok).toBe(false);
      expect(!result.ok && result.errors.join('\n')).toMatch(
        /policy "discount.ceiling": .*optional attribute `amountMinor`/,
      );
      expect(CedarEvaluator.fromBundle(parseBundle(unguarded)).ok).toBe(false);
    });

    it('Cedar alone would allow a 50 % discount; the evaluator denies EVALUATION_ERROR', () => {
      const b = parseBundle(unguarded);
      const ev = new CedarEvaluator(b); // bypasses validation on purpose
      const req = input(discount(50), DEAL_DESK, {}); // amountMinor unknown
      // What Cedar itself answers for the very same request.
      const schema = readSchemaModel(b.schemaText);
      const mapped = schema.ok ? mapToCedarRequest(req, schema.model) : undefined;
      if (!mapped?.ok) throw new Error('mapping failed');
      const { actionType: _actionType, ...request } = mapped.request;
      const raw = cedar.statefulIsAuthorized({
        ...request,
        preparsedSchemaName: ev.schemaName,
        preparsedPolicySetId: ev.policySetId,
      });
      expect(raw.type === 'success' && raw.response.decision).toBe('allow');
      expect(
        raw.type === 'success' && raw.response.diagnostics.errors.map((e) => e.policyId),
      ).toEqual(['discount.ceiling']);

      const outcome = ev.evaluate(req);
      expect(outcome.decision).toBe('deny');
      expect(outcome.reasonCodes).toEqual(['EVALUATION_ERROR']);
      expect(outcome.obligations).toEqual([]);
      expect(outcome.errors[0]).toMatch(/policy "discount.ceiling": .*amountMinor/);
      // With the fact present the same forbid works as written.
      expect(
        ev.evaluate(input(discount(50), DEAL_DESK, { amountMinor: 500000 })).reasonCodes,
      ).toEqual(['DISCOUNT_OVER_CEILING']);
    });

    it('a validated bundle can still error at run time (overflow), and that denies too', () => {
      const overflow = minimalBundleFiles({
        'policies/main.cedar':
          '@id("permit.all") permit (principal, action, resource);\n' +
          '@id("discount.scaled") @reason("DISCOUNT_OVER_CEILING")\n' +
          'forbid (principal, action, resource) when { resource has amountMinor && resource.amountMinor * 10000 > 100000000000000000 };',
      });
      const built = CedarEvaluator.fromBundle(parseBundle(overflow));
      if (!built.ok) throw new Error(built.errors.join('\n'));
      expect(
        built.evaluator.evaluate(input(discount(5), DEAL_DESK, { amountMinor: 500000 })).decision,
      ).toBe('allow');
      const outcome = built.evaluator.evaluate(
        input(discount(5), DEAL_DESK, { amountMinor: 9_000_000_000_000_000 }),
      );
      expect(outcome).toEqual(denyWith('EVALUATION_ERROR'));
      expect(outcome.errors[0]).toMatch(/overflow/);
    });
  });
});

describe('CedarEvaluator: no per-call parsing', () => {
  it('evaluates only against the preparsed schema and policy set', () => {
    const ev = new CedarEvaluator(bundle);
    const parsers = (
      [
        'isAuthorized',
        'preparseSchema',
        'preparsePolicySet',
        'validate',
        'schemaToJsonWithResolvedTypes',
        'policySetTextToParts',
        'policyToJson',
        'checkParseSchema',
        'checkParsePolicySet',
      ] as const
    ).map((name) => jest.spyOn(cedar, name));
    const stateful = jest.spyOn(cedar, 'statefulIsAuthorized');
    for (let i = 0; i < 20; i++) ev.evaluate(input(discount(10 + (i % 3)), DEAL_DESK, smallDeal));
    for (const spy of parsers) expect(spy).not.toHaveBeenCalled();
    expect(stateful).toHaveBeenCalledTimes(20);
    expect(stateful.mock.calls[0][0]).toMatchObject({
      preparsedSchemaName: `mandate-schema:${bundle.contentHash}`,
      preparsedPolicySetId: `mandate-policies:${bundle.contentHash}`,
    });
  });
});

describe('agent ceiling is carried, not judged here', () => {
  it('exposes the profile’s ceiling untouched for the autonomy layer', () => {
    expect(agent('service-triage').ceiling).toBe(Verdict.VERDICT_AUTO_WITH_NOTICE);
  });
});
