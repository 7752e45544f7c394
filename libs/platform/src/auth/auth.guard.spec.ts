import {
  Controller,
  Get,
  INestApplication,
  LoggerService,
  Module,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ApiTokenAuthenticator,
  AuthenticationError,
  generateApiToken,
  type AuthenticatedPrincipal,
} from './api-tokens';
import { ApiAuthGuard, AuthPrincipal, apiAuthenticatorProvider } from './auth.guard';

/** Captures everything Nest logs, to check the token never shows up. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private capture = (...args: unknown[]) => {
    this.lines.push(args.map((a) => (a instanceof Error ? a.stack : String(a))).join(' '));
  };
  log = this.capture;
  error = this.capture;
  warn = this.capture;
  debug = this.capture;
  verbose = this.capture;
  fatal = this.capture;
}

describe('ApiAuthGuard over HTTP', () => {
  const alice = generateApiToken();
  const bob = generateApiToken();
  const logger = new CapturingLogger();
  let app: INestApplication;
  let base: string;

  @Controller('ops')
  class ProtectedController {
    @Get('whoami')
    @UseGuards(ApiAuthGuard)
    whoami(@AuthPrincipal() principal: AuthenticatedPrincipal) {
      return principal;
    }

    @Get('unguarded')
    unguarded(@AuthPrincipal() principal: AuthenticatedPrincipal) {
      return principal;
    }
  }

  @Module({
    controllers: [ProtectedController],
    providers: [
      apiAuthenticatorProvider(
        new ApiTokenAuthenticator([
          { id: 'alice', roles: ['policy-admin'], sha256: alice.sha256 },
          { id: 'bob', roles: ['supervisor'], tenantId: 'acme', sha256: bob.sha256 },
        ]),
      ),
    ],
  })
  class TestModule {}

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await app?.close();
  });

  const get = (path: string, authorization?: string) =>
    fetch(`${base}${path}`, { headers: authorization ? { authorization } : {} });

  it('answers 401 with a Bearer challenge when there is no Authorization header', async () => {
    const res = await get('/ops/whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="mandate"');
    expect(await res.json()).toMatchObject({ statusCode: 401, message: 'missing bearer token' });
  });

  it('answers 401 for a wrong token, without echoing it', async () => {
    const wrong = generateApiToken().token;
    const res = await get('/ops/whoami', `Bearer ${wrong}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="mandate", error="invalid_token"',
    );
    const body = await res.text();
    expect(body).not.toContain(wrong);
    expect(JSON.parse(body)).toMatchObject({ statusCode: 401, message: 'invalid bearer token' });
  });

  it('answers 401 for a malformed header', async () => {
    const res = await get('/ops/whoami', `Basic ${alice.token}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="mandate", error="invalid_request"',
    );
    expect(await res.text()).not.toContain(alice.token);
  });

  it('answers 200 with the principal for a configured token', async () => {
    const res = await get('/ops/whoami', `Bearer ${alice.token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'alice', roles: ['policy-admin'] });

    const asBob = await get('/ops/whoami', `Bearer ${bob.token}`);
    expect(asBob.status).toBe(200);
    expect(await asBob.json()).toEqual({ id: 'bob', roles: ['supervisor'], tenantId: 'acme' });
  });

  it('fails closed when @AuthPrincipal() is used without the guard', async () => {
    const res = await get('/ops/unguarded', `Bearer ${alice.token}`);
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain(alice.token);
  });

  it('never logs a token', () => {
    const logged = logger.lines.join('\n');
    expect(logged).not.toContain(alice.token);
    expect(logged).not.toContain(bob.token);
  });
});

describe('ApiAuthGuard with an asynchronous authenticator', () => {
  let app: INestApplication;
  let base: string;
  let asyncCalls = 0;

  @Controller('ops')
  class AsyncController {
    @Get('whoami')
    @UseGuards(ApiAuthGuard)
    whoami(@AuthPrincipal() principal: AuthenticatedPrincipal) {
      return principal;
    }
  }

  @Module({
    controllers: [AsyncController],
    providers: [
      apiAuthenticatorProvider({
        // The synchronous path would refuse (e.g. an OIDC key id not loaded yet) …
        authenticate: () => {
          throw new Error('the guard must not take the synchronous path');
        },
        // … the asynchronous one waits (for the key set reload) and then knows the principal.
        authenticateAsync: async (header) => {
          asyncCalls++;
          await new Promise((r) => setTimeout(r, 5));
          if (header !== 'Bearer rotated-key-token')
            throw new AuthenticationError('invalid', 'invalid bearer token');
          return { id: 'carol', roles: ['reviewer'], tenantId: 'acme' };
        },
      }),
    ],
  })
  class AsyncModule {}

  beforeAll(async () => {
    app = await NestFactory.create(AsyncModule, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('prefers authenticateAsync, and still answers 401 when it refuses', async () => {
    const ok = await fetch(`${base}/ops/whoami`, {
      headers: { authorization: 'Bearer rotated-key-token' },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: 'carol', roles: ['reviewer'], tenantId: 'acme' });
    const bad = await fetch(`${base}/ops/whoami`, { headers: { authorization: 'Bearer nope' } });
    expect(bad.status).toBe(401);
    expect(asyncCalls).toBe(2);
  });
});
