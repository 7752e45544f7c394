import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Who an operator API request comes from. Structurally identical to the policy domain's
 * `Principal`, so it can be passed to an `Authorizer` as is (platform does not import domain libs).
 */
export interface AuthenticatedPrincipal {
  readonly id: string;
  readonly roles: readonly string[];
  /** The tenant a tenant-bound role (supervisor) belongs to. */
  readonly tenantId?: string;
}

/** One configured operator token: who it authenticates as, and the sha256 of the token. */
export interface ApiTokenEntry {
  readonly id: string;
  readonly roles: readonly string[];
  readonly tenantId?: string;
  /** Lower-case hex sha256 of the raw token. The raw token itself is never configured. */
  readonly sha256: string;
}

/** The environment variable holding the JSON array of {@link ApiTokenEntry}. */
export const API_TOKENS_ENV = 'MANDATE_API_TOKENS';

/** Prefix of tokens minted by {@link generateApiToken}, so leaked ones are easy to scan for. */
export const API_TOKEN_PREFIX = 'mdt_';

/** Thrown when `MANDATE_API_TOKENS` is malformed. Lists every problem at once; never echoes values. */
export class ApiTokenConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid ${API_TOKENS_ENV}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ApiTokenConfigError';
  }
}

export type AuthenticationFailure = 'missing' | 'malformed' | 'invalid';

/**
 * A request could not be authenticated. The message is safe to return to clients: it never
 * contains the presented token.
 */
export class AuthenticationError extends Error {
  constructor(
    readonly reason: AuthenticationFailure,
    message: string,
  ) {
    super(message);
    this.name = 'AuthenticationError';
  }
}

/** Anything that turns an Authorization header into a principal (or throws AuthenticationError). */
export interface RequestAuthenticator {
  authenticate(authorizationHeader: string | undefined): AuthenticatedPrincipal;
  /**
   * Optional asynchronous variant (OIDC: waits for a JWKS reload on an unknown key id); the guard
   * prefers it when present.
   */
  authenticateAsync?(authorizationHeader: string | undefined): Promise<AuthenticatedPrincipal>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;
const KNOWN_FIELDS = new Set(['id', 'roles', 'tenantId', 'sha256']);

/**
 * Parses and validates the `MANDATE_API_TOKENS` JSON. Unset or blank means no tokens (every
 * request is rejected). Every problem is reported at once, naming the entry index and field;
 * values are never echoed, since a misplaced raw token must not end up in logs.
 */
export function parseApiTokens(json: string | undefined): ApiTokenEntry[] {
  if (json === undefined || json.trim() === '') return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    // JSON.parse messages quote the input; report the position only.
    const position = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    throw new ApiTokenConfigError([
      `not valid JSON${position === undefined ? '' : ` (at position ${position})`}`,
    ]);
  }
  if (!Array.isArray(raw)) throw new ApiTokenConfigError(['must be a JSON array of token entries']);

  const problems: string[] = [];
  const entries: ApiTokenEntry[] = [];
  const ids = new Map<string, number>();
  const hashes = new Map<string, number>();

  raw.forEach((item: unknown, index) => {
    const at = (field: string) => `[${index}].${field}`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.push(`[${index}]: must be an object`);
      return;
    }
    const entry = item as Record<string, unknown>;
    const before = problems.length;

    for (const key of Object.keys(entry)) {
      if (!KNOWN_FIELDS.has(key))
        problems.push(
          `${at(key)}: unknown field (allowed: id, roles, tenantId, sha256; configure only the sha256 of a token, never the token)`,
        );
    }

    const { id, roles, tenantId, sha256 } = entry;
    if (typeof id !== 'string' || id.trim() === '')
      problems.push(`${at('id')}: is required and must be a non-empty string`);
    if (
      !Array.isArray(roles) ||
      !roles.every((r): r is string => typeof r === 'string' && r.trim() !== '')
    )
      problems.push(`${at('roles')}: must be an array of non-empty strings`);
    if (tenantId !== undefined && (typeof tenantId !== 'string' || tenantId.trim() === ''))
      problems.push(`${at('tenantId')}: must be a non-empty string when given`);
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256))
      problems.push(`${at('sha256')}: must be 64 hex characters (the sha256 of the token)`);

    if (typeof id === 'string' && id.trim() !== '') {
      const first = ids.get(id);
      if (first !== undefined) problems.push(`${at('id')}: duplicate of entry [${first}]`);
      else ids.set(id, index);
    }
    if (typeof sha256 === 'string' && SHA256_HEX.test(sha256)) {
      const hash = sha256.toLowerCase();
      const first = hashes.get(hash);
      if (first !== undefined) problems.push(`${at('sha256')}: duplicate of entry [${first}]`);
      else hashes.set(hash, index);
    }

    if (problems.length === before)
      entries.push({
        id: id as string,
        roles: [...(roles as string[])],
        ...(tenantId === undefined ? {} : { tenantId: tenantId as string }),
        sha256: (sha256 as string).toLowerCase(),
      });
  });

  if (problems.length > 0) throw new ApiTokenConfigError(problems);
  return entries;
}

/** Reads and validates `MANDATE_API_TOKENS` from the environment. */
export function loadApiTokens(env: NodeJS.ProcessEnv = process.env): ApiTokenEntry[] {
  return parseApiTokens(env[API_TOKENS_ENV]);
}

/** Lower-case hex sha256 of a raw token: the value to put in `MANDATE_API_TOKENS`. */
export function hashApiToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Mints a new token: hand `token` to the operator once, configure only `sha256`. */
export function generateApiToken(): { token: string; sha256: string } {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return { token, sha256: hashApiToken(token) };
}

// RFC 6750 b64token, with a generous cap so a huge header is not hashed.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_HEADER_LENGTH = 4096;

interface KnownToken {
  readonly digest: Buffer;
  readonly principal: AuthenticatedPrincipal;
}

/** Authenticates `Authorization: Bearer <token>` against configured token hashes. */
export class ApiTokenAuthenticator implements RequestAuthenticator {
  private readonly known: readonly KnownToken[];

  constructor(entries: readonly ApiTokenEntry[]) {
    this.known = entries.map((entry, index) => {
      if (!SHA256_HEX.test(entry.sha256))
        throw new ApiTokenConfigError([
          `[${index}].sha256: must be 64 hex characters (the sha256 of the token)`,
        ]);
      const principal: AuthenticatedPrincipal = Object.freeze({
        id: entry.id,
        roles: Object.freeze([...entry.roles]),
        ...(entry.tenantId === undefined ? {} : { tenantId: entry.tenantId }),
      });
      return { digest: Buffer.from(entry.sha256, 'hex'), principal };
    });
  }

  /** Returns the (frozen) principal the token belongs to, or throws {@link AuthenticationError}. */
  authenticate(authorizationHeader: string | undefined): AuthenticatedPrincipal {
    if (typeof authorizationHeader !== 'string' || authorizationHeader.trim() === '')
      throw new AuthenticationError('missing', 'missing bearer token');
    const match =
      authorizationHeader.length <= MAX_HEADER_LENGTH
        ? BEARER.exec(authorizationHeader)
        : undefined;
    if (!match)
      throw new AuthenticationError(
        'malformed',
        'malformed Authorization header; expected "Bearer <token>"',
      );

    const digest = createHash('sha256').update(match[1], 'utf8').digest();
    // Compare against every entry, without stopping at the first match, so timing does not
    // reveal which (or how many) entries were checked.
    let found: AuthenticatedPrincipal | undefined;
    for (const known of this.known) {
      if (timingSafeEqual(digest, known.digest) && found === undefined) found = known.principal;
    }
    if (!found) throw new AuthenticationError('invalid', 'invalid bearer token');
    return found;
  }
}
