import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The only JWS algorithms accepted: RSA PKCS#1 v1.5 with SHA-256, and ECDSA P-256 with SHA-256. */
export type OidcAlgorithm = 'RS256' | 'ES256';

export const OIDC_ALGORITHMS: readonly OidcAlgorithm[] = Object.freeze(['RS256', 'ES256']);

/** A public JSON Web Key as published in a JWKS (RFC 7517). Only the fields used are typed. */
export interface PublicJwk {
  readonly kty: string;
  readonly kid?: string;
  readonly use?: string;
  readonly alg?: string;
  readonly key_ops?: readonly string[];
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
  readonly [member: string]: unknown;
}

export interface JsonWebKeySet {
  readonly keys: readonly PublicJwk[];
}

/** A JWK turned into a `KeyObject`, with the one algorithm its type allows. */
export interface VerificationKey {
  readonly kid?: string;
  readonly alg: OidcAlgorithm;
  readonly key: KeyObject;
}

/** Thrown when a JWKS as a whole is unusable. Never contains key material or other values. */
export class JwksError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JwksError';
  }
}

export interface ParsedJwks {
  /** The usable signing keys. */
  readonly keys: readonly VerificationKey[];
  /** Keys refused, by index, e.g. `keys[2]: contains private key material`. No values. */
  readonly problems: readonly string[];
}

const MIN_RSA_BITS = 2048;
const MAX_KID_LENGTH = 256;
// RFC 7518 §6.2.2 / §6.3.2: private members, which have no business in a published JWKS.
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const mismatch = (alg: OidcAlgorithm) =>
  `"kty"/"crv" do not match the declared alg ${alg} (expected ${alg === 'ES256' ? 'kty EC, crv P-256' : 'kty RSA'})`;

/**
 * Validates a JWKS and turns its signing keys into `KeyObject`s.
 *
 * - Keys not meant for signature verification (`use` other than `sig`, `key_ops` without
 *   `verify`), or of a type no accepted algorithm uses (`oct`, `OKP`, EC curves other than P-256,
 *   a declared `alg` other than RS256/ES256), are skipped silently: identity providers publish
 *   such keys next to their signing keys.
 * - Keys that claim to be usable but are not are refused and listed in `problems`: a `kty`/`crv`
 *   that contradicts the declared `alg` (an `RSA` key declared `ES256`, an `EC` P-384 key declared
 *   `ES256`), private key material, invalid key material, RSA keys under 2048 bits, a non-string
 *   or empty `kid`.
 *
 * Throws {@link JwksError} only when the document is not a `{ "keys": [...] }` object.
 */
export function parseJwks(raw: unknown): ParsedJwks {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new JwksError('JWKS must be a JSON object with a "keys" array');
  const list = (raw as { keys?: unknown }).keys;
  if (!Array.isArray(list)) throw new JwksError('JWKS must be a JSON object with a "keys" array');

  const keys: VerificationKey[] = [];
  const problems: string[] = [];
  list.forEach((item: unknown, index) => {
    const result = toVerificationKey(item);
    if (result === undefined) return;
    if (typeof result === 'string') problems.push(`keys[${index}]: ${result}`);
    else keys.push(result);
  });
  return { keys, problems };
}

/** A key, a reason to refuse it, or `undefined` to skip it silently. */
function toVerificationKey(item: unknown): VerificationKey | string | undefined {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) return 'must be an object';
  const jwk = item as Record<string, unknown>;
  const { kty, kid, use, alg, key_ops: keyOps } = jwk;

  if (use !== undefined && use !== 'sig') return undefined;
  if (keyOps !== undefined && !(Array.isArray(keyOps) && keyOps.includes('verify')))
    return undefined;
  if (kid !== undefined && (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH))
    return `"kid" must be a non-empty string of at most ${MAX_KID_LENGTH} characters`;
  if (alg !== undefined && typeof alg !== 'string') return '"alg" must be a string';

  const declared = alg as string | undefined;
  const declaredSupported = declared === 'RS256' || declared === 'ES256';
  let keyAlg: OidcAlgorithm;
  if (kty === 'RSA') keyAlg = 'RS256';
  else if (kty === 'EC' && jwk.crv === 'P-256') keyAlg = 'ES256';
  else if (declaredSupported)
    // e.g. {kty: "EC", crv: "P-384", alg: "ES256"} or {kty: "oct", alg: "RS256"}
    return mismatch(declared);
  else return undefined;

  if (declared !== undefined && declared !== keyAlg) {
    // An RSA key declared ES256, or a P-256 key declared RS256: refuse. Any other declared
    // algorithm (RS512, PS256, ES384 on a P-256 key...) is one we do not accept: skip.
    return declaredSupported ? mismatch(declared) : undefined;
  }
  if (PRIVATE_MEMBERS.some((member) => member in jwk))
    return 'contains private key material; publish only public keys';

  let key: KeyObject;
  try {
    // Only the public members go to OpenSSL.
    const material =
      keyAlg === 'RS256'
        ? { kty: 'RSA', n: jwk.n, e: jwk.e }
        : { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
    if (Object.values(material).some((v) => typeof v !== 'string' || v === ''))
      return 'invalid key material';
    key = createPublicKey({ key: material as JsonWebKey, format: 'jwk' });
  } catch {
    return 'invalid key material';
  }
  if (keyAlg === 'RS256') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS)
      return `RSA keys must have at least ${MIN_RSA_BITS} bits`;
  } else if (
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  ) {
    return 'invalid key material';
  }
  return { ...(kid === undefined ? {} : { kid: kid as string }), alg: keyAlg, key };
}
