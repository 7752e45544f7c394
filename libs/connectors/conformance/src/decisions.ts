import { randomUUID } from 'node:crypto';
import {
  ActionProposal,
  PolicyDecision,
  Verdict,
  type CrmAction,
  type DecisionToken,
} from '@mandate/contracts';
import {
  DecisionTokenIssuer,
  DecisionTokenVerifier,
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
} from '@mandate/decision-token';

/** Signs decisions like the policy service does, with a key made for the test. */
export class TestPolicy {
  readonly verifier: DecisionTokenVerifier;
  private readonly issuer: DecisionTokenIssuer;
  private readonly expiredIssuer: DecisionTokenIssuer;
  private readonly rogue: DecisionTokenIssuer;

  constructor() {
    const keys = generateSigningKeyPair();
    const rogue = generateSigningKeyPair();
    const key = { keyId: 'conformance-1', privateKey: parsePrivateKey(keys.privateKey) };
    this.issuer = new DecisionTokenIssuer(key, 60_000);
    // Issued two minutes ago with a one-minute life: expired now.
    this.expiredIssuer = new DecisionTokenIssuer(key, 60_000, () => new Date(Date.now() - 120_000));
    // Same key id, another private key: a forgery.
    this.rogue = new DecisionTokenIssuer(
      { keyId: 'conformance-1', privateKey: parsePrivateKey(rogue.privateKey) },
      60_000,
    );
    this.verifier = new DecisionTokenVerifier(
      new Map([['conformance-1', parsePublicKey(keys.publicKey)]]),
    );
  }

  proposal(
    tenantId: string,
    target: { objectType: string; recordId: string },
    action: CrmAction,
    idempotencyKey = `conf-${randomUUID()}`,
  ): ActionProposal {
    return ActionProposal.fromPartial({
      proposalId: randomUUID(),
      tenantId,
      correlationId: randomUUID(),
      agentId: 'conformance-agent',
      idempotencyKey,
      target,
      action,
      rationale: 'conformance kit',
      confidence: 0.9,
    });
  }

  /** An AUTO decision with a valid token for exactly this proposal. */
  auto(proposal: ActionProposal): PolicyDecision {
    return this.decision(proposal, Verdict.VERDICT_AUTO, (d) =>
      this.issuer.issue(d.proposal!, d.verdict),
    );
  }

  expired(proposal: ActionProposal): PolicyDecision {
    return this.decision(proposal, Verdict.VERDICT_AUTO, (d) =>
      this.expiredIssuer.issue(d.proposal!, d.verdict),
    );
  }

  forged(proposal: ActionProposal): PolicyDecision {
    return this.decision(proposal, Verdict.VERDICT_AUTO, (d) =>
      this.rogue.issue(d.proposal!, d.verdict),
    );
  }

  /** An APPROVE_1 decision whose token carries no approval. */
  unapproved(proposal: ActionProposal): PolicyDecision {
    return this.decision(proposal, Verdict.VERDICT_APPROVE_1, (d) =>
      this.issuer.issue(d.proposal!, d.verdict),
    );
  }

  /** A token issued for `signed`, attached to the decision of `presented`. */
  mismatched(signed: ActionProposal, presented: ActionProposal): PolicyDecision {
    const token = this.issuer.issue(signed, Verdict.VERDICT_AUTO);
    return PolicyDecision.fromPartial({
      decisionId: randomUUID(),
      tenantId: presented.tenantId,
      correlationId: presented.correlationId,
      proposal: presented,
      verdict: Verdict.VERDICT_AUTO,
      token,
    });
  }

  withoutToken(proposal: ActionProposal): PolicyDecision {
    return PolicyDecision.fromPartial({
      decisionId: randomUUID(),
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      proposal,
      verdict: Verdict.VERDICT_AUTO,
    });
  }

  private decision(
    proposal: ActionProposal,
    verdict: Verdict,
    sign: (d: PolicyDecision) => DecisionToken,
  ): PolicyDecision {
    const d = PolicyDecision.fromPartial({
      decisionId: randomUUID(),
      tenantId: proposal.tenantId,
      correlationId: proposal.correlationId,
      proposal,
      verdict,
    });
    return { ...d, token: sign(d) };
  }
}
