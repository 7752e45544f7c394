import {
  AuthenticationError,
  type AuthenticatedPrincipal,
  type RequestAuthenticator,
} from '../api-tokens';

/** A {@link RequestAuthenticator} that may also wait for I/O (e.g. a JWKS refetch). */
export interface AsyncCapableAuthenticator extends RequestAuthenticator {
  authenticateAsync?(authorizationHeader: string | undefined): Promise<AuthenticatedPrincipal>;
}

/** What {@link firstOf} returns: usable by `ApiAuthGuard` (sync) and by async callers. */
export interface CompositeAuthenticator extends RequestAuthenticator {
  authenticateAsync(authorizationHeader: string | undefined): Promise<AuthenticatedPrincipal>;
}

/**
 * Tries each authenticator in order and returns the first principal, e.g.
 * `firstOf(new ApiTokenAuthenticator(loadApiTokens()), oidc)` so operator tokens keep working
 * next to OIDC tokens.
 *
 * Only an `AuthenticationError` moves on to the next authenticator; anything else (an
 * `OidcAccessDeniedError`: a valid token that grants nothing, or a bug) is thrown at once. When all
 * fail, the most telling error is thrown: one from an authenticator that recognised the token as
 * its own (`claimed: true`, e.g. "invalid bearer token: expired" for a JWT), then by reason
 * (`invalid` over `malformed` over `missing`), then the earliest; errors marked `claimed: false`
 * ("not mine") come last. So the order of the authenticators does not change what is reported.
 */
export function firstOf(...authenticators: AsyncCapableAuthenticator[]): CompositeAuthenticator {
  if (authenticators.length === 0) throw new Error('firstOf: needs at least one authenticator');
  const list = [...authenticators];
  return {
    authenticate(header) {
      const errors: AuthenticationError[] = [];
      for (const authenticator of list) {
        try {
          return authenticator.authenticate(header);
        } catch (err) {
          if (!(err instanceof AuthenticationError)) throw err;
          errors.push(err);
        }
      }
      throw mostTelling(errors);
    },
    async authenticateAsync(header) {
      const errors: AuthenticationError[] = [];
      for (const authenticator of list) {
        try {
          return authenticator.authenticateAsync
            ? await authenticator.authenticateAsync(header)
            : authenticator.authenticate(header);
        } catch (err) {
          if (!(err instanceof AuthenticationError)) throw err;
          errors.push(err);
        }
      }
      throw mostTelling(errors);
    },
  };
}

const REASON_RANK = { missing: 0, malformed: 1, invalid: 2 } as const;

function rank(err: AuthenticationError): number {
  const claimed = (err as { claimed?: unknown }).claimed;
  if (claimed === true) return 10;
  return REASON_RANK[err.reason] * 2 + (claimed === false ? 0 : 1);
}

function mostTelling(errors: AuthenticationError[]): AuthenticationError {
  return errors.reduce((best, err) => (rank(err) > rank(best) ? err : best));
}
