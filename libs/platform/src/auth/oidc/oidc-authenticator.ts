import { constants, verify as verifySignature } from 'node:crypto';
import { ForbiddenException } from '@nestjs/common';
import {
  AuthenticationError,
  type AuthenticatedPrincipal,
  type RequestAuthenticator,
} from '../api-tokens';
import {
  JwksError,
  OIDC_ALGORITHMS,
  parseJwks,
  type JsonWebKeySet,
  type OidcAlgorithm,
  type VerificationKey,
} from './jwks';

/** The roles an OIDC token may grant by default; any other role in the token is dropped. */
export const OIDC_DEFAULT_ROLES: readonly string[] = Object.freeze([
  'reviewer',
  'supervisor',
  'auditor',
  'admin',
]);

/** Roles that only make sense within one tenant: a token granting one must name its tenant. */
export const OIDC_DEFAULT_TENANT_BOUND_ROLES: readonly string[] = Object.freeze([
  'reviewer',
  'supervisor',
  'auditor',
]);

/** Why a bearer token was refused, for logs. Never contains the token or claim values. */
export type OidcFailure =
  | 'not a JWT'
  | 'malformed token'
  | 'unsupported alg'
  | 'unsupported critical header'
  | 'unknown kid'
  | 'key does not match alg'
  | 'signing keys unavailable'
  | 'bad signature'
  | 'wrong issuer'
  | 'wrong audience'
  | 'missing exp'
  | 'expired'
  | 'not yet valid'
  | 'issued in the future'
  | 'missing sub';

/**
 * A bearer token was refused (HTTP 401 through `ApiAuthGuard`). `detail` says why, for logs; the
 * message is safe to return to clients: it never contains the token, a claim value or a key.
 *
 * `claimed` is true when the token was a JWT, i.e. this authenticator recognised it as its own
 * and its verdict is more telling than another authenticator's "unknown token" ({@link firstOf}
 * reports it over the others).
 */
export class OidcAuthenticationError extends AuthenticationError {
  readonly claimed: boolean;

  constructor(readonly detail: OidcFailure) {
    super(
      'invalid',
      detail === 'not a JWT' ? 'invalid bearer token' : `invalid bearer token: ${detail}`,
    );
    this.name = 'OidcAuthenticationError';
    this.claimed = detail !== 'not a JWT';
  }
}

export type OidcAccessDenial =
  'no allowed role' | 'tenant claim missing' | 'malformed role or tenant claim';

/**
 * The token is valid (signature, issuer, audience, lifetime) but grants no access: none of the
 * allowed roles, a tenant-bound role without a tenant, or a roles/tenant claim of the wrong
 * shape. A Nest `ForbiddenException`, so `ApiAuthGuard` (which only turns `AuthenticationError`s
 * into 401) lets it through as a 403 and the console can tell "sign in again" from "you have no
 * access". {@link firstOf} does not try other authenticators after it. No claim values in it.
 */
export class OidcAccessDeniedError extends ForbiddenException {
  constructor(readonly detail: OidcAccessDenial) {
    super(`access denied: ${detail}`);
    this.name = 'OidcAccessDeniedError';
  }
}

/** The subset of `fetch` used to load a JWKS (injectable for tests). */
export type JwksFetch = (
  url: string,
  init: { signal: AbortSignal; redirect: 'error'; headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

export interface OidcAuthenticatorOptions {
  /** Expected `iss`, compared exactly. */
  readonly issuer: string;
  /** Expected `aud`: the token's `aud` (a string or an array) must contain one of these. */
  readonly audience: string | readonly string[];
  /** Where to fetch the JWKS from (https, or http on a loopback host). Exclusive with `jwks`. */
  readonly jwksUri?: string;
  /** A static JWKS (object or JSON text). Exclusive with `jwksUri`. */
  readonly jwks?: JsonWebKeySet | string;
  /** Claim holding the roles, a dotted path for nested claims (`realm_access.roles`). Default `roles`. */
  readonly rolesClaim?: string;
  /** Claim holding the tenant, a dotted path allowed. Default `tenant`. */
  readonly tenantClaim?: string;
  /** Roles kept from the token; others are dropped. Default {@link OIDC_DEFAULT_ROLES}. */
  readonly allowedRoles?: readonly string[];
  /** Roles that require a tenant claim. Default {@link OIDC_DEFAULT_TENANT_BOUND_ROLES}. */
  readonly tenantBoundRoles?: readonly string[];
  /** Accepted algorithms, a subset of RS256 and ES256 (the default, both). */
  readonly algorithms?: readonly OidcAlgorithm[];
  /** Leeway for `exp`, `nbf` and `iat`, in seconds (0 to 300). Default 60. */
  readonly clockSkewSeconds?: number;
  /** After this long, a fetched JWKS is refreshed in the background. Default 600. */
  readonly jwksCacheTtlSeconds?: number;
  /** At most one JWKS fetch per this many seconds, whatever triggers it. Default 30. */
  readonly jwksMinRefetchSeconds?: number;
  /** Timeout of one JWKS fetch. Default 5000. */
  readonly jwksFetchTimeoutMs?: number;
  /** Defaults to the global `fetch`. */
  readonly fetch?: JwksFetch;
  /** Milliseconds since the epoch. Defaults to `Date.now`. */
  readonly now?: () => number;
  /** Told about JWKS fetch failures and refused keys (messages carry no key material). */
  readonly onJwksProblem?: (message: string) => void;
}

/** Invalid {@link OidcAuthenticatorOptions}. Lists every problem; never echoes values. */
export class OidcOptionsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid OIDC options:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'OidcOptionsError';
  }
}

/** Helpers for the header, shared with nothing else so `api-tokens.ts` stays untouched. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
// JWTs from real identity providers (many roles, groups) exceed the 4 KiB operator-token cap.
const MAX_HEADER_LENGTH = 16 * 1024;
const B64URL = /^[A-Za-z0-9_-]+$/;
const MAX_JWKS_BYTES = 1024 * 1024;
const MAX_SUB_LENGTH = 255;
const MAX_TENANT_LENGTH = 128;
const CLAIM_PATH = /^[^\s.]+(\.[^\s.]+)*$/;

interface Settings {
  readonly issuer: string;
  readonly audiences: ReadonlySet<string>;
  readonly rolesClaim: string;
  readonly tenantClaim: string;
  readonly allowedRoles: ReadonlySet<string>;
  readonly tenantBoundRoles: ReadonlySet<string>;
  readonly algorithms: ReadonlySet<OidcAlgorithm>;
  readonly skewMs: number;
  readonly ttlMs: number;
  readonly minRefetchMs: number;
  readonly fetchTimeoutMs: number;
}

/**
 * Authenticates `Authorization: Bearer <JWT>` issued by an OpenID Connect provider, and maps its
 * claims to an {@link AuthenticatedPrincipal}: `sub` → `id`, the roles claim (filtered by the
 * allow-list) → `roles`, the tenant claim → `tenantId`.
 *
 * Verification: RS256 or ES256 only (`none`, HS*, anything else is refused before a key is even
 * looked up, so a public key can never be used as an HMAC secret); the key is chosen by `kid` and
 * must be of the algorithm's type (RSA ≥ 2048 bits, or EC P-256); the signature is checked with
 * `node:crypto` before any claim is trusted; then `iss` (exact), `aud` (contains the configured
 * audience), `exp` (required), `nbf` and `iat` with `clockSkewSeconds` of leeway, `sub`.
 *
 * Failures: {@link OidcAuthenticationError} (an `AuthenticationError`, 401) with a `detail` for
 * logs; a valid token that grants no allowed role, or a tenant-bound role (reviewer, supervisor,
 * auditor) without a tenant, is {@link OidcAccessDeniedError} (403). Nothing returned or thrown
 * ever contains the token.
 *
 * Keys: a static JWKS is used as is. A `jwksUri` is fetched by {@link start} (call it at boot),
 * refreshed in the background when older than `jwksCacheTtlSeconds`, and refetched when a token
 * names an unknown `kid` (key rotation); all fetches are single-flight and at most one per
 * `jwksMinRefetchSeconds`, so a flood of tokens with random kids cannot cause a refetch storm.
 * A failed fetch keeps the previous keys. `authenticate` is synchronous (the `RequestAuthenticator`
 * contract `ApiAuthGuard` uses), so the request that reveals a new `kid` fails with `unknown kid`
 * while the refetch it triggered runs; `authenticateAsync` instead waits for that refetch and
 * retries once.
 */
export class OidcAuthenticator implements RequestAuthenticator {
  private readonly settings: Settings;
  private readonly jwksUri?: string;
  private readonly fetchImpl: JwksFetch;
  private readonly now: () => number;
  private readonly onJwksProblem: (message: string) => void;

  private keys: readonly VerificationKey[] | undefined;
  private fetchedAt = -Infinity;
  private lastAttemptAt = -Infinity;
  private lastError: string | undefined;
  private inflight: Promise<Error | undefined> | undefined;

  constructor(options: OidcAuthenticatorOptions) {
    const problems = validateOptions(options);
    if (problems.length > 0) throw new OidcOptionsError(problems);

    const audiences = typeof options.audience === 'string' ? [options.audience] : options.audience;
    this.settings = {
      issuer: options.issuer,
      audiences: new Set(audiences),
      rolesClaim: options.rolesClaim ?? 'roles',
      tenantClaim: options.tenantClaim ?? 'tenant',
      allowedRoles: new Set(options.allowedRoles ?? OIDC_DEFAULT_ROLES),
      tenantBoundRoles: new Set(options.tenantBoundRoles ?? OIDC_DEFAULT_TENANT_BOUND_ROLES),
      algorithms: new Set(options.algorithms ?? OIDC_ALGORITHMS),
      skewMs: (options.clockSkewSeconds ?? 60) * 1000,
      ttlMs: (options.jwksCacheTtlSeconds ?? 600) * 1000,
      minRefetchMs: (options.jwksMinRefetchSeconds ?? 30) * 1000,
      fetchTimeoutMs: options.jwksFetchTimeoutMs ?? 5000,
    };
    this.now = options.now ?? Date.now;
    this.onJwksProblem = options.onJwksProblem ?? (() => undefined);
    this.fetchImpl = options.fetch ?? ((url, init) => globalThis.fetch(url, init));

    if (options.jwksUri !== undefined) {
      this.jwksUri = options.jwksUri;
    } else {
      const { keys, problems: keyProblems } = parseStaticJwks(
        options.jwks as JsonWebKeySet | string,
      );
      if (keyProblems.length > 0) throw new OidcOptionsError(keyProblems.map((p) => `jwks.${p}`));
      if (keys.length === 0) throw new OidcOptionsError(['jwks: contains no usable signing key']);
      this.keys = keys;
      this.fetchedAt = Infinity; // static keys never expire
    }
  }

  /**
   * Fetches the JWKS now (single-flight, not rate-limited; a no-op for a static one). Call it at
   * start-up: until keys are loaded, every token is refused with `signing keys unavailable` (and
   * triggers a rate-limited fetch). Throws a {@link JwksError} if the fetch fails; the caller
   * chooses between failing the boot and starting anyway.
   */
  async start(): Promise<void> {
    if (this.jwksUri === undefined) return;
    const error = await this.fetchKeys();
    if (error) throw error;
  }

  /** For readiness checks and diagnostics. */
  jwksStatus(): { keys: number; kids: string[]; fetchedAt?: number; lastError?: string } {
    return {
      keys: this.keys?.length ?? 0,
      kids: (this.keys ?? []).flatMap((k) => (k.kid === undefined ? [] : [k.kid])),
      ...(Number.isFinite(this.fetchedAt) ? { fetchedAt: this.fetchedAt } : {}),
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Verifies the bearer JWT against the keys at hand; see the class comment. */
  authenticate(authorizationHeader: string | undefined): AuthenticatedPrincipal {
    const token = bearerToken(authorizationHeader);
    const jwt = decodeJwt(token);
    const principal = this.verify(jwt);
    if (this.jwksUri !== undefined && this.now() - this.fetchedAt > this.settings.ttlMs)
      this.maybeRefetch(); // stale-while-revalidate: the keys at hand verified this token
    return principal;
  }

  /**
   * Like {@link authenticate}, but when the token names a `kid` not (yet) known, or no keys are
   * loaded, waits for the refetch that triggered (if the rate limit allowed one) and retries once.
   */
  async authenticateAsync(
    authorizationHeader: string | undefined,
  ): Promise<AuthenticatedPrincipal> {
    try {
      return this.authenticate(authorizationHeader);
    } catch (err) {
      const retryable =
        err instanceof OidcAuthenticationError &&
        (err.detail === 'unknown kid' || err.detail === 'signing keys unavailable');
      const pending = this.inflight;
      if (!retryable || pending === undefined) throw err;
      await pending;
      return this.authenticate(authorizationHeader);
    }
  }

  private verify(jwt: DecodedJwt): AuthenticatedPrincipal {
    const { header, payload, signingInput, signature } = jwt;
    const s = this.settings;

    // 1. Algorithm, before anything else: `none`, HS256 (alg confusion), RS512... never get a key.
    if (typeof header.alg !== 'string' || !s.algorithms.has(header.alg as OidcAlgorithm))
      throw new OidcAuthenticationError('unsupported alg');
    const alg = header.alg as OidcAlgorithm;
    // RFC 7515 §4.1.11: extensions we do not understand must be refused.
    if (header.crit !== undefined) throw new OidcAuthenticationError('unsupported critical header');

    // 2. Key by kid; it must be of the algorithm's type.
    const candidates = this.keysFor(header.kid);
    const usable = candidates.filter((k) => k.alg === alg);
    if (candidates.length > 0 && usable.length === 0)
      throw new OidcAuthenticationError('key does not match alg');

    // 3. Signature, before any claim is believed.
    if (!usable.some((k) => signatureValid(alg, k, signingInput, signature)))
      throw new OidcAuthenticationError('bad signature');

    // 4. Claims.
    if (payload.iss !== s.issuer) throw new OidcAuthenticationError('wrong issuer');
    const aud = payload.aud;
    const auds = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!auds.some((a) => typeof a === 'string' && s.audiences.has(a)))
      throw new OidcAuthenticationError('wrong audience');
    const now = this.now();
    if (!isNumericDate(payload.exp)) throw new OidcAuthenticationError('missing exp');
    if (now >= payload.exp * 1000 + s.skewMs) throw new OidcAuthenticationError('expired');
    if (payload.nbf !== undefined) {
      if (!isNumericDate(payload.nbf)) throw new OidcAuthenticationError('malformed token');
      if (now + s.skewMs < payload.nbf * 1000) throw new OidcAuthenticationError('not yet valid');
    }
    if (payload.iat !== undefined) {
      if (!isNumericDate(payload.iat)) throw new OidcAuthenticationError('malformed token');
      if (now + s.skewMs < payload.iat * 1000)
        throw new OidcAuthenticationError('issued in the future');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.trim() === '' || sub.length > MAX_SUB_LENGTH)
      throw new OidcAuthenticationError('missing sub');

    return this.principalOf(sub, payload);
  }

  private principalOf(sub: string, payload: Record<string, unknown>): AuthenticatedPrincipal {
    const s = this.settings;
    const rawRoles = claimAt(payload, s.rolesClaim);
    if (rawRoles !== undefined && !Array.isArray(rawRoles))
      throw new OidcAccessDeniedError('malformed role or tenant claim');
    const roles = [
      ...new Set(
        (rawRoles ?? []).filter((r): r is string => typeof r === 'string' && s.allowedRoles.has(r)),
      ),
    ];
    if (roles.length === 0) throw new OidcAccessDeniedError('no allowed role');

    const tenant = claimAt(payload, s.tenantClaim);
    if (
      tenant !== undefined &&
      (typeof tenant !== 'string' || tenant.trim() === '' || tenant.length > MAX_TENANT_LENGTH)
    )
      throw new OidcAccessDeniedError('malformed role or tenant claim');
    if (tenant === undefined && roles.some((r) => s.tenantBoundRoles.has(r)))
      throw new OidcAccessDeniedError('tenant claim missing');

    return Object.freeze({
      id: sub,
      roles: Object.freeze(roles),
      ...(tenant === undefined ? {} : { tenantId: tenant as string }),
    });
  }

  private keysFor(kid: unknown): readonly VerificationKey[] {
    const keys = this.keys;
    if (keys === undefined) {
      this.maybeRefetch();
      throw new OidcAuthenticationError('signing keys unavailable');
    }
    if (kid !== undefined && (typeof kid !== 'string' || kid === ''))
      throw new OidcAuthenticationError('malformed token');
    // Without a kid, only a JWKS holding a single key is unambiguous.
    const found =
      kid === undefined ? (keys.length === 1 ? keys : []) : keys.filter((k) => k.kid === kid);
    if (found.length === 0) {
      this.maybeRefetch();
      throw new OidcAuthenticationError('unknown kid');
    }
    return found;
  }

  /** Starts a background fetch unless one is running or the last attempt is too recent. */
  private maybeRefetch(): void {
    if (this.jwksUri === undefined || this.inflight !== undefined) return;
    if (this.now() - this.lastAttemptAt < this.settings.minRefetchMs) return;
    void this.fetchKeys();
  }

  /** Single-flight fetch. Resolves to the error (also reported) rather than rejecting. */
  private fetchKeys(): Promise<Error | undefined> {
    if (this.inflight) return this.inflight;
    this.lastAttemptAt = this.now();
    const attempt = this.loadFromUri().then(
      (keys) => {
        this.keys = keys;
        this.fetchedAt = this.now();
        this.lastError = undefined;
        return undefined;
      },
      (err: unknown) => {
        const error =
          err instanceof JwksError ? err : new JwksError('JWKS fetch failed: unexpected error');
        this.lastError = error.message;
        this.onJwksProblem(error.message);
        return error;
      },
    );
    this.inflight = attempt.finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async loadFromUri(): Promise<VerificationKey[]> {
    let text: string;
    try {
      const response = await this.fetchImpl(this.jwksUri as string, {
        signal: AbortSignal.timeout(this.settings.fetchTimeoutMs),
        redirect: 'error',
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      if (!response.ok) throw new JwksError(`JWKS fetch failed: HTTP ${response.status}`);
      text = await response.text();
    } catch (err) {
      if (err instanceof JwksError) throw err;
      // By name: the DOMException may come from another realm (instanceof Error fails in jest).
      const timedOut = (err as { name?: unknown } | undefined)?.name === 'TimeoutError';
      throw new JwksError(`JWKS fetch failed: ${timedOut ? 'timed out' : 'network error'}`);
    }
    if (text.length > MAX_JWKS_BYTES) throw new JwksError('JWKS fetch failed: response too large');
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new JwksError('JWKS fetch failed: response is not valid JSON');
    }
    const { keys, problems } = parseJwks(raw);
    for (const problem of problems) this.onJwksProblem(`JWKS key refused: ${problem}`);
    // Keep the previous keys rather than replace them with nothing.
    if (keys.length === 0) throw new JwksError('JWKS fetch failed: no usable signing key');
    return [...keys];
  }
}

interface DecodedJwt {
  readonly header: Record<string, unknown>;
  readonly payload: Record<string, unknown> & { exp?: unknown; nbf?: unknown; iat?: unknown };
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

function bearerToken(header: string | undefined): string {
  if (typeof header !== 'string' || header.trim() === '')
    throw new AuthenticationError('missing', 'missing bearer token');
  const match = header.length <= MAX_HEADER_LENGTH ? BEARER.exec(header) : undefined;
  if (!match)
    throw new AuthenticationError(
      'malformed',
      'malformed Authorization header; expected "Bearer <token>"',
    );
  return match[1];
}

function decodeJwt(token: string): DecodedJwt {
  const parts = token.split('.');
  if (parts.length !== 3) throw new OidcAuthenticationError('not a JWT');
  const [h, p, sig] = parts;
  // An empty signature is what `alg: none` tokens carry: malformed here, whatever the alg says.
  if (!B64URL.test(h) || !B64URL.test(p) || !B64URL.test(sig))
    throw new OidcAuthenticationError('malformed token');
  const header = jsonSegment(h);
  const payload = jsonSegment(p);
  return {
    header,
    payload,
    signingInput: Buffer.from(`${h}.${p}`, 'ascii'),
    signature: Buffer.from(sig, 'base64url'),
  };
}

function jsonSegment(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    // JSON.parse messages quote the input, i.e. part of the token: never pass them on.
    throw new OidcAuthenticationError('malformed token');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new OidcAuthenticationError('malformed token');
  return value as Record<string, unknown>;
}

function signatureValid(
  alg: OidcAlgorithm,
  key: VerificationKey,
  data: Buffer,
  signature: Buffer,
): boolean {
  try {
    if (alg === 'ES256') {
      // JWS ECDSA signatures are raw r||s (RFC 7518 §3.4), not DER.
      if (signature.length !== 64) return false;
      return verifySignature(
        'sha256',
        data,
        { key: key.key, dsaEncoding: 'ieee-p1363' },
        signature,
      );
    }
    return verifySignature(
      'sha256',
      data,
      { key: key.key, padding: constants.RSA_PKCS1_PADDING },
      signature,
    );
  } catch {
    return false;
  }
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * The claim at `path`: a top-level claim of that exact name if there is one (namespaced claims
 * such as `https://example.com/roles` contain dots), else the dotted path through nested objects
 * (`realm_access.roles`).
 */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  if (Object.prototype.hasOwnProperty.call(claims, path)) return claims[path];
  let value: unknown = claims;
  for (const segment of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(value, segment)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

function parseStaticJwks(jwks: JsonWebKeySet | string): {
  keys: VerificationKey[];
  problems: string[];
} {
  let raw: unknown = jwks;
  if (typeof jwks === 'string') {
    try {
      raw = JSON.parse(jwks);
    } catch {
      return { keys: [], problems: ['not valid JSON'] };
    }
  }
  try {
    const parsed = parseJwks(raw);
    return { keys: [...parsed.keys], problems: [...parsed.problems] };
  } catch (err) {
    return { keys: [], problems: [err instanceof Error ? err.message : 'invalid JWKS'] };
  }
}

/** https anywhere; plain http only to a loopback host (a local issuer, tests). */
export function jwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (url.protocol === 'https:') return undefined;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
  if (url.protocol === 'http:' && loopback) return undefined;
  return 'must be an https URL (plain http only to localhost/127.0.0.1/::1)';
}

function validateOptions(o: OidcAuthenticatorOptions): string[] {
  const problems: string[] = [];
  const nonEmpty = (v: unknown) => typeof v === 'string' && v.trim() !== '' && !/\s/.test(v);
  if (!nonEmpty(o.issuer)) problems.push('issuer: must be a non-empty string without spaces');
  const auds = typeof o.audience === 'string' ? [o.audience] : o.audience;
  if (!Array.isArray(auds) || auds.length === 0 || !auds.every(nonEmpty))
    problems.push('audience: must be a non-empty string (or a non-empty list of them)');
  if ((o.jwksUri === undefined) === (o.jwks === undefined))
    problems.push('exactly one of jwksUri and jwks must be given');
  if (o.jwksUri !== undefined) {
    const problem = typeof o.jwksUri === 'string' ? jwksUriProblem(o.jwksUri) : 'must be a string';
    if (problem) problems.push(`jwksUri: ${problem}`);
  }
  for (const [name, value] of [
    ['rolesClaim', o.rolesClaim],
    ['tenantClaim', o.tenantClaim],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || !CLAIM_PATH.test(value)))
      problems.push(`${name}: must be a claim name or a dotted path such as realm_access.roles`);
  }
  for (const [name, value] of [
    ['allowedRoles', o.allowedRoles],
    ['tenantBoundRoles', o.tenantBoundRoles],
  ] as const) {
    if (value !== undefined && (!Array.isArray(value) || !value.every(nonEmpty)))
      problems.push(`${name}: must be a list of non-empty role names`);
  }
  if (o.allowedRoles !== undefined && o.allowedRoles.length === 0)
    problems.push('allowedRoles: must not be empty (every token would be refused)');
  if (
    o.algorithms !== undefined &&
    (!Array.isArray(o.algorithms) ||
      o.algorithms.length === 0 ||
      !o.algorithms.every((a) => OIDC_ALGORITHMS.includes(a)))
  )
    problems.push('algorithms: must be a non-empty subset of RS256, ES256');
  const range = (name: string, v: number | undefined, min: number, max: number) => {
    if (v !== undefined && !(Number.isFinite(v) && v >= min && v <= max))
      problems.push(`${name}: must be a number from ${min} to ${max}`);
  };
  range('clockSkewSeconds', o.clockSkewSeconds, 0, 300);
  range('jwksCacheTtlSeconds', o.jwksCacheTtlSeconds, 1, 7 * 24 * 3600);
  range('jwksMinRefetchSeconds', o.jwksMinRefetchSeconds, 0, 3600);
  range('jwksFetchTimeoutMs', o.jwksFetchTimeoutMs, 100, 60_000);
  return problems;
}
