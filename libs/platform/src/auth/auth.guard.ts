import {
  CanActivate,
  ExecutionContext,
  Inject,
  Injectable,
  UnauthorizedException,
  createParamDecorator,
  type Provider,
} from '@nestjs/common';
import {
  AuthenticationError,
  type AuthenticatedPrincipal,
  type RequestAuthenticator,
} from './api-tokens';

/** Injection token for the authenticator {@link ApiAuthGuard} uses (an `ApiTokenAuthenticator`). */
export const API_AUTHENTICATOR = Symbol('API_AUTHENTICATOR');

/** Provides the authenticator to the module whose controllers use `@UseGuards(ApiAuthGuard)`. */
export function apiAuthenticatorProvider(authenticator: RequestAuthenticator): Provider {
  return { provide: API_AUTHENTICATOR, useValue: authenticator };
}

/** An HTTP request that passed {@link ApiAuthGuard}. */
export interface AuthenticatedRequest {
  principal?: AuthenticatedPrincipal;
}

interface HttpRequestLike extends AuthenticatedRequest {
  headers?: Record<string, string | string[] | undefined>;
}

interface HttpResponseLike {
  header?: (name: string, value: string) => unknown;
  setHeader?: (name: string, value: string) => unknown;
}

const REALM = 'mandate';

/**
 * Authenticates operator HTTP requests by their `Authorization: Bearer <token>` header and puts
 * the principal on `request.principal` (read it with `@AuthPrincipal()`). Anything else gets a
 * 401 with `WWW-Authenticate: Bearer`. Never logs or echoes the token. HTTP only: any other
 * context is denied.
 */
@Injectable()
export class ApiAuthGuard implements CanActivate {
  constructor(@Inject(API_AUTHENTICATOR) private readonly authenticator: RequestAuthenticator) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return false;
    const http = context.switchToHttp();
    const request = http.getRequest<HttpRequestLike>();
    const raw = request.headers?.['authorization'];
    const header = Array.isArray(raw) ? raw.join(', ') : raw;
    try {
      request.principal = this.authenticator.authenticateAsync
        ? await this.authenticator.authenticateAsync(header)
        : this.authenticator.authenticate(header);
      return true;
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      setHeader(http.getResponse<HttpResponseLike>(), 'WWW-Authenticate', challenge(err));
      throw new UnauthorizedException(err.message);
    }
  }
}

/** RFC 6750 §3: no error code when no credentials were sent. */
function challenge(err: AuthenticationError): string {
  if (err.reason === 'missing') return `Bearer realm="${REALM}"`;
  const code = err.reason === 'malformed' ? 'invalid_request' : 'invalid_token';
  return `Bearer realm="${REALM}", error="${code}"`;
}

// Express and Fastify both have `header(name, value)`; plain Node responses have `setHeader`.
function setHeader(response: HttpResponseLike, name: string, value: string): void {
  if (typeof response.header === 'function') response.header(name, value);
  else if (typeof response.setHeader === 'function') response.setHeader(name, value);
}

/**
 * The principal {@link ApiAuthGuard} authenticated. Using it on a route without the guard is a
 * wiring bug and fails the request (500) rather than running without a principal.
 */
export const AuthPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedPrincipal => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('@AuthPrincipal() used on a route not guarded by ApiAuthGuard');
    return principal;
  },
);
