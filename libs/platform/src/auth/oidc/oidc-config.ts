import { JwksError, parseJwks, type JsonWebKeySet } from './jwks';
import { jwksUriProblem, type OidcAuthenticatorOptions } from './oidc-authenticator';

/** The environment variables {@link parseOidcConfig} reads. */
export const OIDC_ENV = Object.freeze({
  issuer: 'OIDC_ISSUER',
  audience: 'OIDC_AUDIENCE',
  jwksUri: 'OIDC_JWKS_URI',
  jwks: 'OIDC_JWKS',
  rolesClaim: 'OIDC_ROLES_CLAIM',
  tenantClaim: 'OIDC_TENANT_CLAIM',
});

/** Thrown when the `OIDC_*` variables are inconsistent. Names variables, never their values. */
export class OidcConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid OIDC configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'OidcConfigError';
  }
}

export type OidcEnvConfig = Pick<
  OidcAuthenticatorOptions,
  'issuer' | 'audience' | 'jwksUri' | 'jwks' | 'rolesClaim' | 'tenantClaim'
>;

const CLAIM_PATH = /^[^\s.]+(\.[^\s.]+)*$/;

/**
 * Reads the OIDC settings from the environment; `undefined` when none of the `OIDC_*` variables
 * is set (OIDC disabled). Otherwise all of:
 *
 * - `OIDC_ISSUER` (required): the exact `iss` of accepted tokens.
 * - `OIDC_AUDIENCE` (required): the `aud` to expect; a comma-separated list accepts any of them.
 * - exactly one of `OIDC_JWKS_URI` (https, or http to a loopback host) and `OIDC_JWKS` (the JWKS
 *   as JSON, validated here: public signing keys only).
 * - `OIDC_ROLES_CLAIM` (default `roles`; a dotted path such as `realm_access.roles` for Keycloak)
 *   and `OIDC_TENANT_CLAIM` (default `tenant`).
 *
 * Every problem is reported at once, naming the variable; values are never echoed.
 */
export function parseOidcConfig(env: NodeJS.ProcessEnv = process.env): OidcEnvConfig | undefined {
  const get = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const names = Object.values(OIDC_ENV);
  if (names.every((name) => get(name) === undefined)) return undefined;

  const problems: string[] = [];
  const issuer = get(OIDC_ENV.issuer);
  if (issuer === undefined) problems.push(`${OIDC_ENV.issuer}: is required when any OIDC_* is set`);
  else if (/\s/.test(issuer)) problems.push(`${OIDC_ENV.issuer}: must not contain spaces`);

  const audienceRaw = get(OIDC_ENV.audience);
  const audiences = (audienceRaw ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  if (audienceRaw === undefined)
    problems.push(`${OIDC_ENV.audience}: is required when any OIDC_* is set`);
  else if (audiences.length === 0 || audiences.some((a) => /\s/.test(a)))
    problems.push(`${OIDC_ENV.audience}: must be an audience or a comma-separated list of them`);

  const jwksUri = get(OIDC_ENV.jwksUri);
  const jwksJson = get(OIDC_ENV.jwks);
  let jwks: JsonWebKeySet | undefined;
  if ((jwksUri === undefined) === (jwksJson === undefined))
    problems.push(`exactly one of ${OIDC_ENV.jwksUri} and ${OIDC_ENV.jwks} must be set`);
  if (jwksUri !== undefined) {
    const problem = jwksUriProblem(jwksUri);
    if (problem) problems.push(`${OIDC_ENV.jwksUri}: ${problem}`);
  }
  if (jwksJson !== undefined) {
    const result = checkJwks(jwksJson);
    if (typeof result === 'string') problems.push(`${OIDC_ENV.jwks}: ${result}`);
    else if (Array.isArray(result)) problems.push(...result.map((p) => `${OIDC_ENV.jwks}: ${p}`));
    else jwks = result;
  }

  const claim = (name: string): string | undefined => {
    const value = get(name);
    if (value !== undefined && !CLAIM_PATH.test(value))
      problems.push(`${name}: must be a claim name or a dotted path such as realm_access.roles`);
    return value;
  };
  const rolesClaim = claim(OIDC_ENV.rolesClaim);
  const tenantClaim = claim(OIDC_ENV.tenantClaim);

  if (problems.length > 0) throw new OidcConfigError(problems);
  return {
    issuer: issuer as string,
    audience: audiences.length === 1 ? audiences[0] : audiences,
    ...(jwksUri === undefined ? {} : { jwksUri }),
    ...(jwks === undefined ? {} : { jwks }),
    ...(rolesClaim === undefined ? {} : { rolesClaim }),
    ...(tenantClaim === undefined ? {} : { tenantClaim }),
  };
}

/** The parsed JWKS, one problem, or the problems of its keys. */
function checkJwks(json: string): JsonWebKeySet | string | string[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    // JSON.parse messages quote the input; report the position only.
    const position = /position (\d+)/.exec(err instanceof Error ? err.message : '')?.[1];
    return `not valid JSON${position === undefined ? '' : ` (at position ${position})`}`;
  }
  try {
    const { keys, problems } = parseJwks(raw);
    if (problems.length > 0) return [...problems];
    if (keys.length === 0) return 'contains no usable signing key (RS256 or ES256)';
    return raw as JsonWebKeySet;
  } catch (err) {
    return err instanceof JwksError ? err.message : 'invalid JWKS';
  }
}
