// Shared by the engine specs (not exported from the lib).
import * as path from 'node:path';
import {
  DecisionTokenIssuer,
  DecisionTokenVerifier,
  generateSigningKeyPair,
  parsePrivateKey,
  parsePublicKey,
} from '@mandate/decision-token';
import { CircuitBreakers, type CircuitBreakerConfig } from '../autonomy/circuit-breakers';
import { KillSwitchBoard } from '../autonomy/kill-switch.board';
import { loadBundleDirectory } from '../cedar/bundle-directory.loader';
import { BundleRegistry } from '../cedar/bundle.registry';
import {
  applyTrustEvidence,
  assessTrust,
  newTrustState,
  type TrustAssessment,
} from '../trust/trust-model';
import { PolicyEngine, type TrustSource } from './policy-engine';

export const FIXTURE_NOW = new Date('2025-01-15T10:00:00Z'); // a Wednesday morning
export const DEFAULT_BUNDLE_DIR = path.resolve(__dirname, '../../../bundles/default');

/** Trust as the TrustRepository would compute it after `approvals` clean reviewed executions. */
export function trustAfter(
  approvals: number,
  actionType = 'qualify_lead',
  agentId = 'lead-qualification',
  now = FIXTURE_NOW,
): TrustAssessment {
  let state = newTrustState(agentId, actionType, new Date(now.getTime() - 86_400_000));
  for (let i = 0; i < approvals; i++) {
    state = applyTrustEvidence(state, { eventId: `a${i}`, kind: 'review_approve', at: now }).state;
    state = applyTrustEvidence(state, {
      eventId: `e${i}`,
      kind: 'execution_success',
      at: now,
    }).state;
  }
  return assessTrust(state, now);
}

/** A PolicyEngine on the default bundle with a real Ed25519 issuer/verifier and a fixed clock. */
export async function engineFixture(
  o: { trust?: TrustAssessment; breakerConfig?: CircuitBreakerConfig; now?: Date } = {},
) {
  const now = o.now ?? FIXTURE_NOW;
  const registry = new BundleRegistry();
  const offered = registry.offer(await loadBundleDirectory(DEFAULT_BUNDLE_DIR), now);
  if (!offered.ok) throw new Error(offered.errors.join('\n'));
  const keys = generateSigningKeyPair();
  const issuer = new DecisionTokenIssuer(
    { keyId: 'k', privateKey: parsePrivateKey(keys.privateKey) },
    60_000,
    () => now,
  );
  const verifier = new DecisionTokenVerifier(
    new Map([['k', parsePublicKey(keys.publicKey)]]),
    () => now,
  );
  const killSwitches = new KillSwitchBoard();
  const breakers = new CircuitBreakers(o.breakerConfig, undefined, () => now);
  const trust: TrustSource = { get: async () => o.trust ?? trustAfter(40) };
  const common = { trust, killSwitches, breakers, issuer, maxBundleAgeMs: 3_600_000 };
  const engine = new PolicyEngine({ registry, ...common });
  return { engine, verifier, issuer, killSwitches, breakers, registry, common };
}
