// Shared by the Cedar specs (not exported): the default bundle's location, proposal builders and
// a minimal bundle to build special-purpose bundles from.
import { join } from 'node:path';
import { ActionProposal, Verdict } from '@mandate/contracts';
import type { AgentProfile, DecisionInput, FactValue } from '../engine/decision-input';

export const DEFAULT_BUNDLE_DIR = join(__dirname, '..', '..', '..', 'bundles', 'default');

/** A Wednesday, 10:00 UTC: business hours. */
export const WEDNESDAY_10 = new Date('2025-01-15T10:00:00Z');

export function proposal(
  action: Record<string, unknown>,
  target: { objectType: string; recordId: string },
  agentId: string,
  tenantId = 'acme',
): ActionProposal {
  return ActionProposal.fromJSON({
    proposalId: 'p-1',
    tenantId,
    agentId,
    idempotencyKey: 'k-1',
    target,
    action,
    confidence: 0.9,
  });
}

export function input(
  p: ActionProposal,
  agent: AgentProfile | undefined,
  attributes: Record<string, FactValue> | undefined,
  extra: Partial<DecisionInput> = {},
): DecisionInput {
  return {
    proposal: p,
    agent,
    facts: attributes && {
      objectType: p.target?.objectType ?? '',
      recordId: p.target?.recordId ?? '',
      tenantId: p.tenantId,
      attributes,
    },
    now: WEDNESDAY_10,
    ...extra,
  };
}

export const DEAL_DESK: AgentProfile = {
  id: 'deal-desk',
  purpose: 'pricing',
  allowedFields: ['discountPercent', 'stage'],
  ceiling: Verdict.VERDICT_APPROVE_1,
  tenants: ['*'],
};

export const discount = (pct: number, tenantId = 'acme') =>
  proposal(
    { applyDiscount: { discountPercent: pct, reason: 'renewal' } },
    { objectType: 'opportunity', recordId: 'opp-1' },
    'deal-desk',
    tenantId,
  );

/** A minimal valid bundle (one action, apply_discount) to derive test bundles from. */
export function minimalBundleFiles(overrides: Record<string, string | undefined> = {}) {
  const files: Record<string, string | undefined> = {
    'bundle.json': JSON.stringify({
      name: 'minimal',
      version: '0.1.0',
      author: 'alice',
      approver: 'bob',
      createdAt: '2025-01-01T00:00:00Z',
      description: 'test bundle',
    }),
    'schema.cedarschema': `namespace Mandate {
      entity Tenant;
      entity Agent in [Tenant] { purpose: String, allowedFields: Set<String> };
      entity Opportunity in [Tenant] { tenant: Tenant, amountMinor?: Long };
      action apply_discount appliesTo {
        principal: [Agent], resource: [Opportunity],
        context: { tenant: Tenant, discountBps: Long },
      };
    }`,
    'policies/main.cedar': `@id("permit.all")
      permit (principal, action, resource);`,
    'risk.json': '{}',
    'matrix.json': '{}',
    'agents.json': JSON.stringify({
      agents: [
        {
          id: 'deal-desk',
          purpose: 'pricing',
          allowedFields: [],
          ceiling: 'VERDICT_APPROVE_1',
          tenants: ['*'],
        },
      ],
    }),
    ...overrides,
  };
  return Object.fromEntries(
    Object.entries(files).filter((e): e is [string, string] => e[1] !== undefined),
  );
}
