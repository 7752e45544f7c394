import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign,
  type JsonWebKey,
} from 'node:crypto';
import type { JsonWebKeySet, PublicJwk } from './jwks';
import { OidcAuthenticator, type OidcAuthenticatorOptions } from './oidc-authenticator';

export interface LocalOidcIssuerOptions {
  /** The `iss` of issued tokens. Default `http://127.0.0.1/mandate-local-issuer`. */
  readonly issuer?: string;
  /** The `aud` of issued tokens. Default `mandate`. */
  readonly audience?: string;
  /** An EC P-256 private key (KeyObject, PEM or JWK) to reuse; default: a fresh one. */
  readonly privateKey?: KeyObject | string | JsonWebKey;
  /** Default: the key's RFC 7638 thumbprint. */
  readonly kid?: string;
  /** Lifetime of issued tokens when `issue` is not told. Default 3600. */
  readonly defaultTtlSeconds?: number;
  /** Milliseconds since the epoch. Defaults to `Date.now`. */
  readonly now?: () => number;
}

export interface LocalTokenRequest {
  readonly sub: string;
  readonly roles: readonly string[];
  readonly tenant?: string;
  readonly name?: string;
  /** 1 s to 24 h. */
  readonly ttlSeconds?: number;
  /**
   * Claims set over the standard ones (`iss`, `aud`, `exp`...). For tests that need a wrong
   * issuer or an odd claim shape; nothing else should need it.
   */
  readonly claims?: Readonly<Record<string, unknown>>;
}

const MAX_TTL_SECONDS = 24 * 3600;

/**
 * DEVELOPMENT AND TESTS ONLY. A minimal in-process token issuer for the embedded mode and specs:
 * it signs whatever identity it is asked for, with no login, so it must never be reachable in a
 * deployment that holds real data. Production uses a real OpenID Connect provider (Keycloak,
 * Entra ID, Okta...) configured with `OIDC_*` (see `parseOidcConfig`).
 *
 * Holds an ES256 (P-256) key pair, generated at construction unless one is given; publishes the
 * public half with {@link jwks}; {@link issue} mints JWTs `OidcAuthenticator` accepts
 * ({@link authenticator} builds one that trusts this issuer).
 */
export class LocalOidcIssuer {
  readonly issuer: string;
  readonly audience: string;
  readonly kid: string;
  private readonly privateKey: KeyObject;
  private readonly publicJwk: PublicJwk;
  private readonly defaultTtlSeconds: number;
  private readonly now: () => number;

  constructor(options: LocalOidcIssuerOptions = {}) {
    this.issuer = options.issuer ?? 'http://127.0.0.1/mandate-local-issuer';
    this.audience = options.audience ?? 'mandate';
    this.defaultTtlSeconds = checkTtl(options.defaultTtlSeconds ?? 3600);
    this.now = options.now ?? Date.now;
    this.privateKey = toPrivateKey(options.privateKey);
    const { kty, crv, x, y } = createPublicKey(this.privateKey).export({ format: 'jwk' });
    this.kid =
      options.kid ??
      thumbprint({ crv: crv as string, kty: kty as string, x: x as string, y: y as string });
    this.publicJwk = Object.freeze({
      kty: kty as string,
      crv: crv as string,
      x: x as string,
      y: y as string,
      kid: this.kid,
      use: 'sig',
      alg: 'ES256',
    });
  }

  /** The public JWKS (serve it at the issuer's `jwks_uri`, or configure it statically). */
  jwks(): JsonWebKeySet {
    return { keys: [{ ...this.publicJwk }] };
  }

  /** A signed ES256 JWT for this identity. */
  issue(request: LocalTokenRequest): string {
    if (typeof request.sub !== 'string' || request.sub.trim() === '')
      throw new Error('LocalOidcIssuer.issue: sub must be a non-empty string');
    if (!Array.isArray(request.roles) || !request.roles.every((r) => typeof r === 'string'))
      throw new Error('LocalOidcIssuer.issue: roles must be an array of strings');
    const ttl = checkTtl(request.ttlSeconds ?? this.defaultTtlSeconds);
    const iat = Math.floor(this.now() / 1000);
    const header = { alg: 'ES256', typ: 'JWT', kid: this.kid };
    const payload = {
      iss: this.issuer,
      aud: this.audience,
      sub: request.sub,
      iat,
      exp: iat + ttl,
      roles: [...request.roles],
      ...(request.tenant === undefined ? {} : { tenant: request.tenant }),
      ...(request.name === undefined ? {} : { name: request.name }),
      ...request.claims,
    };
    const signingInput = `${segment(header)}.${segment(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), {
      key: this.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${signingInput}.${signature.toString('base64url')}`;
  }

  /** An authenticator trusting exactly this issuer (static JWKS, its issuer and audience). */
  authenticator(
    overrides: Omit<Partial<OidcAuthenticatorOptions>, 'jwks' | 'jwksUri'> = {},
  ): OidcAuthenticator {
    return new OidcAuthenticator({
      issuer: this.issuer,
      audience: this.audience,
      ...overrides,
      jwks: this.jwks(),
    });
  }
}

function toPrivateKey(given: LocalOidcIssuerOptions['privateKey']): KeyObject {
  let key: KeyObject;
  if (given === undefined) key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  else if (typeof given === 'string') key = createPrivateKey(given);
  else if (given instanceof KeyObject) key = given;
  else key = createPrivateKey({ key: given, format: 'jwk' });
  if (
    key.type !== 'private' ||
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== 'prime256v1'
  )
    throw new Error('LocalOidcIssuer: privateKey must be an EC P-256 private key');
  return key;
}

function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TTL_SECONDS)
    throw new Error(`LocalOidcIssuer: ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}`);
  return ttl;
}

function segment(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** RFC 7638 JWK thumbprint of an EC key: sha256 of the required members in lexical order. */
function thumbprint(jwk: { crv: string; kty: string; x: string; y: string }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
