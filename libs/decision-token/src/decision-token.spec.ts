import { ActionProposal, Verdict } from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  DecisionTokenVerifier,
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
} from './decision-token';

const proposal = ActionProposal.fromPartial({
  proposalId: 'p-1',
  tenantId: 'acme',
  idempotencyKey: 'k-1',
  agentId: 'lead-qualification',
  target: { objectType: 'lead', recordId: 'lead-1' },
  action: { kind: { $case: 'qualifyLead', value: { score: 80, reason: 'fit' } } },
});

function setup(now = new Date('2026-01-01T00:00:00Z')) {
  const pair = generateSigningKeyPair();
  const issuer = new DecisionTokenIssuer(
    { keyId: 'k1', privateKey: parsePrivateKey(pair.privateKey) },
    60_000,
    () => now,
  );
  const keys = new Map([['k1', parsePublicKey(pair.publicKey)]]);
  return { issuer, keys, now };
}

describe('decision tokens', () => {
  it('accepts a token issued for exactly this payload', () => {
    const { issuer, keys, now } = setup();
    const token = issuer.issue(proposal, Verdict.VERDICT_AUTO);
    expect(new DecisionTokenVerifier(keys, () => now).verify(token, proposal)).toEqual({
      ok: true,
    });
  });

  it('refuses a missing token', () => {
    const { keys } = setup();
    expect(new DecisionTokenVerifier(keys).verify(undefined, proposal)).toMatchObject({
      ok: false,
      reason: 'TOKEN_MISSING',
    });
  });

  it('refuses a token signed by a key it does not trust (forged)', () => {
    const { issuer, now } = setup();
    const other = setup();
    const token = issuer.issue(proposal, Verdict.VERDICT_AUTO);
    expect(new DecisionTokenVerifier(other.keys, () => now).verify(token, proposal)).toMatchObject({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('refuses a token whose fields were altered after signing', () => {
    const { issuer, keys, now } = setup();
    const token = {
      ...issuer.issue(proposal, Verdict.VERDICT_APPROVE_1),
      verdict: Verdict.VERDICT_AUTO,
    };
    expect(new DecisionTokenVerifier(keys, () => now).verify(token, proposal)).toMatchObject({
      ok: false,
      reason: 'BAD_SIGNATURE',
    });
  });

  it('refuses an expired token', () => {
    const { issuer, keys, now } = setup();
    const token = issuer.issue(proposal, Verdict.VERDICT_AUTO);
    const later = new Date(now.getTime() + 61_000);
    expect(new DecisionTokenVerifier(keys, () => later).verify(token, proposal)).toMatchObject({
      ok: false,
      reason: 'EXPIRED',
    });
  });

  it('refuses a token presented with a different action (mismatched payload)', () => {
    const { issuer, keys, now } = setup();
    const token = issuer.issue(proposal, Verdict.VERDICT_AUTO);
    const edited = {
      ...proposal,
      action: { kind: { $case: 'qualifyLead' as const, value: { score: 90, reason: 'fit' } } },
    };
    expect(new DecisionTokenVerifier(keys, () => now).verify(token, edited)).toMatchObject({
      ok: false,
      reason: 'PAYLOAD_MISMATCH',
    });
  });

  it('refuses a token replayed for another proposal or tenant', () => {
    const { issuer, keys, now } = setup();
    const token = issuer.issue(proposal, Verdict.VERDICT_AUTO);
    const verifier = new DecisionTokenVerifier(keys, () => now);
    expect(verifier.verify(token, { ...proposal, proposalId: 'p-2' })).toMatchObject({
      ok: false,
      reason: 'PROPOSAL_MISMATCH',
    });
    expect(verifier.verify(token, { ...proposal, tenantId: 'globex' })).toMatchObject({
      ok: false,
      reason: 'TENANT_MISMATCH',
    });
  });

  it('refuses an approval verdict without the distinct approvals it needs', () => {
    const { issuer, keys, now } = setup();
    const verifier = new DecisionTokenVerifier(keys, () => now);
    expect(
      verifier.verify(issuer.issue(proposal, Verdict.VERDICT_APPROVE_1), proposal),
    ).toMatchObject({ reason: 'APPROVALS_MISSING' });
    const sameTwice = issuer.issue(proposal, Verdict.VERDICT_APPROVE_2, [
      { reviewerId: 'r1', decidedAt: now.toISOString(), reviewDecisionId: 'd1' },
      { reviewerId: 'r1', decidedAt: now.toISOString(), reviewDecisionId: 'd2' },
    ]);
    expect(verifier.verify(sameTwice, proposal)).toMatchObject({ reason: 'APPROVALS_MISSING' });
    const twoReviewers = issuer.issue(proposal, Verdict.VERDICT_APPROVE_2, [
      { reviewerId: 'r1', decidedAt: now.toISOString(), reviewDecisionId: 'd1' },
      { reviewerId: 'r2', decidedAt: now.toISOString(), reviewDecisionId: 'd2' },
    ]);
    expect(verifier.verify(twoReviewers, proposal)).toEqual({ ok: true });
  });

  it('never issues a token for DENY', () => {
    const { issuer } = setup();
    expect(() => issuer.issue(proposal, Verdict.VERDICT_DENY)).toThrow(/no token/);
  });
});

describe('token binding', () => {
  it('binds the bundle version and required approvals into the signature', () => {
    const { issuer, keys, now } = setup();
    const token = issuer.issue(proposal, Verdict.VERDICT_AUTO, [], 'bundle-1.2.0');
    expect(token.bundleVersion).toBe('bundle-1.2.0');
    expect(token.requiredApprovals).toBe(0);
    const verifier = new DecisionTokenVerifier(keys, () => now);
    expect(verifier.verify(token, proposal)).toEqual({ ok: true });
    expect(verifier.verify({ ...token, bundleVersion: 'bundle-0.0.1' }, proposal)).toMatchObject({
      reason: 'BAD_SIGNATURE',
    });
  });
});
