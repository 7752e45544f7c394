import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  randomUUID,
  sign,
  verify,
} from 'node:crypto';
import {
  ActionPayload,
  ActionProposal,
  Approval,
  DecisionToken,
  Verdict,
} from '@mandate/contracts';

/**
 * Decision tokens: Ed25519 signatures by the policy service over a token bound to the exact
 * action payload (tenant, idempotency key, target, action). Connectors hold only public keys, so
 * a compromised connector cannot mint permissions for itself.
 */

/** Lower-case hex SHA-256 of the protobuf encoding of the proposal's ActionPayload. */
export function payloadHash(
  proposal: Pick<ActionProposal, 'tenantId' | 'idempotencyKey' | 'target' | 'action'>,
): string {
  const payload = ActionPayload.fromPartial({
    tenantId: proposal.tenantId,
    idempotencyKey: proposal.idempotencyKey,
    target: proposal.target,
    action: proposal.action,
  });
  return createHash('sha256').update(ActionPayload.encode(payload).finish()).digest('hex');
}

function signingBytes(token: DecisionToken): Uint8Array {
  return DecisionToken.encode({ ...token, signature: Buffer.alloc(0) }).finish();
}

export interface SigningKey {
  keyId: string;
  privateKey: KeyObject;
}

/** Verification keys by key id; several ids coexist during a key rotation. */
export type VerificationKeys = ReadonlyMap<string, KeyObject>;

/** Reads an Ed25519 private key from PEM or base64-encoded PKCS#8 DER (as set in config). */
export function parsePrivateKey(material: string): KeyObject {
  const text = material.includes('BEGIN') ? material : undefined;
  return text
    ? createPrivateKey(text)
    : createPrivateKey({ key: Buffer.from(material, 'base64'), format: 'der', type: 'pkcs8' });
}

/** Reads an Ed25519 public key from PEM or base64-encoded SPKI DER. */
export function parsePublicKey(material: string): KeyObject {
  return material.includes('BEGIN')
    ? createPublicKey(material)
    : createPublicKey({ key: Buffer.from(material, 'base64'), format: 'der', type: 'spki' });
}

/** A fresh key pair, base64 DER encoded: for the embedded process and for tests. */
export function generateSigningKeyPair(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64'),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
  };
}

const EXECUTABLE = new Set([
  Verdict.VERDICT_AUTO,
  Verdict.VERDICT_AUTO_WITH_NOTICE,
  Verdict.VERDICT_APPROVE_1,
  Verdict.VERDICT_APPROVE_2,
]);

export class DecisionTokenIssuer {
  constructor(
    private readonly key: SigningKey,
    private readonly ttlMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Signs a token for exactly this proposal. `bundleVersion` and the required approvals are
   * bound into the signature, so neither can be changed after issue.
   */
  issue(
    proposal: ActionProposal,
    verdict: Verdict,
    approvals: Approval[] = [],
    bundleVersion = '',
  ): DecisionToken {
    if (!EXECUTABLE.has(verdict))
      throw new Error(`no token is issued for verdict ${Verdict[verdict]}`);
    const issuedAt = this.now();
    const unsigned = DecisionToken.fromPartial({
      tokenId: randomUUID(),
      tenantId: proposal.tenantId,
      proposalId: proposal.proposalId,
      idempotencyKey: proposal.idempotencyKey,
      payloadHash: payloadHash(proposal),
      verdict,
      approvals,
      issuedAt: issuedAt.toISOString(),
      expiresAt: new Date(issuedAt.getTime() + this.ttlMs).toISOString(),
      keyId: this.key.keyId,
      requiredApprovals: requiredApprovals(verdict),
      bundleVersion,
    });
    return { ...unsigned, signature: sign(null, signingBytes(unsigned), this.key.privateKey) };
  }
}

export type TokenRefusal =
  | 'TOKEN_MISSING'
  | 'UNKNOWN_KEY'
  | 'BAD_SIGNATURE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'TENANT_MISMATCH'
  | 'PROPOSAL_MISMATCH'
  | 'PAYLOAD_MISMATCH'
  | 'VERDICT_NOT_EXECUTABLE'
  | 'APPROVALS_MISSING';

export type TokenCheck = { ok: true } | { ok: false; reason: TokenRefusal; detail: string };

/** Clock skew tolerated between the policy service that issued a token and the verifier. */
const SKEW_MS = 30_000;

export class DecisionTokenVerifier {
  constructor(
    private readonly keys: VerificationKeys,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Checks a token against the proposal the connector is about to execute. Order matters: the
   * signature is checked before any field is trusted.
   */
  verify(token: DecisionToken | undefined, proposal: ActionProposal): TokenCheck {
    if (!token || !token.signature || token.signature.length === 0)
      return refuse('TOKEN_MISSING', 'no decision token');
    const key = this.keys.get(token.keyId);
    if (!key) return refuse('UNKNOWN_KEY', `no verification key with id "${token.keyId}"`);
    let valid = false;
    try {
      valid = verify(null, signingBytes(token), key, Buffer.from(token.signature));
    } catch (err) {
      return refuse(
        'BAD_SIGNATURE',
        `signature could not be checked: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (!valid) return refuse('BAD_SIGNATURE', 'signature does not match the token');
    const now = this.now().getTime();
    const expires = Date.parse(token.expiresAt ?? '');
    const issued = Date.parse(token.issuedAt ?? '');
    if (!Number.isFinite(expires) || now > expires)
      return refuse('EXPIRED', `token expired at ${token.expiresAt}`);
    if (!Number.isFinite(issued) || issued - SKEW_MS > now)
      return refuse('NOT_YET_VALID', `token issued in the future (${token.issuedAt})`);
    if (token.tenantId !== proposal.tenantId)
      return refuse('TENANT_MISMATCH', 'token was issued for another tenant');
    if (
      token.proposalId !== proposal.proposalId ||
      token.idempotencyKey !== proposal.idempotencyKey
    ) {
      return refuse('PROPOSAL_MISMATCH', 'token was issued for another proposal');
    }
    if (token.payloadHash !== payloadHash(proposal))
      return refuse('PAYLOAD_MISMATCH', 'action payload differs from the one decided');
    if (!EXECUTABLE.has(token.verdict))
      return refuse(
        'VERDICT_NOT_EXECUTABLE',
        `verdict ${Verdict[token.verdict]} does not permit execution`,
      );
    const reviewers = new Set(token.approvals.map((a) => a.reviewerId).filter(Boolean));
    const needed =
      token.verdict === Verdict.VERDICT_APPROVE_2
        ? 2
        : token.verdict === Verdict.VERDICT_APPROVE_1
          ? 1
          : 0;
    if (reviewers.size < needed) {
      return refuse(
        'APPROVALS_MISSING',
        `verdict ${Verdict[token.verdict]} needs ${needed} distinct approvals, has ${reviewers.size}`,
      );
    }
    return { ok: true };
  }
}

/** Approvals a verdict requires before execution. */
export function requiredApprovals(verdict: Verdict): number {
  return verdict === Verdict.VERDICT_APPROVE_2 ? 2 : verdict === Verdict.VERDICT_APPROVE_1 ? 1 : 0;
}

function refuse(reason: TokenRefusal, detail: string): TokenCheck {
  return { ok: false, reason, detail };
}
