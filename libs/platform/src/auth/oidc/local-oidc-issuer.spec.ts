import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  verify,
  type JsonWebKey,
} from 'node:crypto';
import {
  Controller,
  Get,
  type INestApplication,
  type LoggerService,
  Module,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ApiTokenAuthenticator,
  generateApiToken,
  type AuthenticatedPrincipal,
} from '../api-tokens';
import { ApiAuthGuard, AuthPrincipal, apiAuthenticatorProvider } from '../auth.guard';
import { firstOf } from './first-of';
import { LocalOidcIssuer } from './local-oidc-issuer';
import { OidcAuthenticator } from './oidc-authenticator';
import { OIDC_ENV, OidcConfigError, parseOidcConfig } from './oidc-config';

const decode = (segment: string) => JSON.parse(Buffer.from(segment, 'base64url').toString());

describe('LocalOidcIssuer', () => {
  const t = Date.UTC(2030, 0, 1);
  const issuer = new LocalOidcIssuer({ now: () => t });

  it('publishes only the public ES256 key, with an RFC 7638 thumbprint kid', () => {
    const { keys } = issuer.jwks();
    expect(keys).toHaveLength(1);
    const [jwk] = keys;
    expect(jwk).toEqual({
      kty: 'EC',
      crv: 'P-256',
      x: expect.any(String),
      y: expect.any(String),
      kid: issuer.kid,
      use: 'sig',
      alg: 'ES256',
    });
    expect(jwk).not.toHaveProperty('d');
    const canonical = JSON.stringify({ crv: 'P-256', kty: 'EC', x: jwk.x, y: jwk.y });
    expect(issuer.kid).toBe(createHash('sha256').update(canonical).digest('base64url'));
    expect(new LocalOidcIssuer().kid).not.toBe(issuer.kid); // a fresh key each time
  });

  it('issues ES256 JWTs with the standard claims', () => {
    const token = issuer.issue({ sub: 'ana', roles: ['reviewer'], tenant: 'acme', name: 'Ana' });
    const [h, p, s] = token.split('.');
    expect(decode(h)).toEqual({ alg: 'ES256', typ: 'JWT', kid: issuer.kid });
    expect(decode(p)).toEqual({
      iss: 'http://127.0.0.1/mandate-local-issuer',
      aud: 'mandate',
      sub: 'ana',
      iat: t / 1000,
      exp: t / 1000 + 3600,
      roles: ['reviewer'],
      tenant: 'acme',
      name: 'Ana',
    });
    const signature = Buffer.from(s, 'base64url');
    expect(signature).toHaveLength(64); // raw r||s
    const key = createPublicKey({ key: issuer.jwks().keys[0] as JsonWebKey, format: 'jwk' });
    expect(
      verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, signature),
    ).toBe(true);
    expect(decode(issuer.issue({ sub: 'x', roles: [], ttlSeconds: 60 }).split('.')[1]).exp).toBe(
      t / 1000 + 60,
    );
  });

  it('builds an authenticator that trusts it', () => {
    const oidc = issuer.authenticator({ now: () => t });
    const token = issuer.issue({ sub: 'root', roles: ['admin'] });
    expect(oidc.authenticate(`Bearer ${token}`)).toEqual({ id: 'root', roles: ['admin'] });
  });

  it('reuses a given P-256 key (PEM, JWK or KeyObject) and refuses others', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const fromObject = new LocalOidcIssuer({
      privateKey,
      issuer: 'https://dev.local',
      audience: 'x',
    });
    const fromPem = new LocalOidcIssuer({
      privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    });
    const fromJwk = new LocalOidcIssuer({ privateKey: privateKey.export({ format: 'jwk' }) });
    expect(fromPem.kid).toBe(fromObject.kid);
    expect(fromJwk.kid).toBe(fromObject.kid);
    expect(fromObject.issuer).toBe('https://dev.local');
    // A token from one verifies with an authenticator built from another (same key).
    const token = fromObject.issue({ sub: 'a', roles: ['admin'] });
    expect(
      fromPem
        .authenticator({ issuer: 'https://dev.local', audience: 'x' })
        .authenticate(`Bearer ${token}`).id,
    ).toBe('a');

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    for (const bad of [rsa, p384, createPublicKey(privateKey)])
      expect(() => new LocalOidcIssuer({ privateKey: bad })).toThrow('EC P-256 private key');
  });

  it('validates its input', () => {
    expect(() => issuer.issue({ sub: '', roles: [] })).toThrow('sub must be a non-empty string');
    expect(() => issuer.issue({ sub: 'a', roles: 'admin' as never })).toThrow('roles must be');
    expect(() => issuer.issue({ sub: 'a', roles: [], ttlSeconds: 0 })).toThrow('ttlSeconds');
    expect(() => issuer.issue({ sub: 'a', roles: [], ttlSeconds: 90_000 })).toThrow('ttlSeconds');
  });
});

describe('parseOidcConfig', () => {
  const issuer = new LocalOidcIssuer();
  const base = {
    OIDC_ISSUER: 'https://idp.example.com/realms/mandate',
    OIDC_AUDIENCE: 'mandate-console',
  };

  function problemsOf(env: NodeJS.ProcessEnv): string[] {
    try {
      parseOidcConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(OidcConfigError);
      return (err as OidcConfigError).problems;
    }
    throw new Error('expected parseOidcConfig to throw');
  }

  it('is disabled (undefined) when no OIDC_* variable is set', () => {
    expect(parseOidcConfig({})).toBeUndefined();
    expect(parseOidcConfig({ OIDC_ISSUER: ' ', OTHER: 'x' })).toBeUndefined();
  });

  it('parses a JWKS URI setup, with Keycloak-style claims', () => {
    const config = parseOidcConfig({
      ...base,
      OIDC_JWKS_URI: 'https://idp.example.com/realms/mandate/protocol/openid-connect/certs',
      OIDC_ROLES_CLAIM: 'realm_access.roles',
      OIDC_TENANT_CLAIM: 'mandate_tenant',
    });
    expect(config).toEqual({
      issuer: base.OIDC_ISSUER,
      audience: 'mandate-console',
      jwksUri: 'https://idp.example.com/realms/mandate/protocol/openid-connect/certs',
      rolesClaim: 'realm_access.roles',
      tenantClaim: 'mandate_tenant',
    });
    expect(() => new OidcAuthenticator(config!)).not.toThrow();
    expect(
      parseOidcConfig({
        ...base,
        OIDC_AUDIENCE: 'a, b',
        OIDC_JWKS_URI: 'http://127.0.0.1:8080/jwks',
      }),
    ).toMatchObject({
      audience: ['a', 'b'],
    });
  });

  it('parses a static JWKS that then verifies tokens', () => {
    const config = parseOidcConfig({
      OIDC_ISSUER: issuer.issuer,
      OIDC_AUDIENCE: issuer.audience,
      OIDC_JWKS: JSON.stringify(issuer.jwks()),
    });
    const oidc = new OidcAuthenticator(config!);
    const token = issuer.issue({ sub: 'ana', roles: ['supervisor'], tenant: 'acme' });
    expect(oidc.authenticate(`Bearer ${token}`)).toEqual({
      id: 'ana',
      roles: ['supervisor'],
      tenantId: 'acme',
    });
  });

  it('names every bad variable at once', () => {
    expect(problemsOf({ OIDC_JWKS_URI: 'https://idp/jwks', OIDC_JWKS: '{"keys":[]}' })).toEqual([
      'OIDC_ISSUER: is required when any OIDC_* is set',
      'OIDC_AUDIENCE: is required when any OIDC_* is set',
      'exactly one of OIDC_JWKS_URI and OIDC_JWKS must be set',
      'OIDC_JWKS: contains no usable signing key (RS256 or ES256)',
    ]);
    expect(problemsOf({ OIDC_ROLES_CLAIM: 'roles' })).toContain(
      'exactly one of OIDC_JWKS_URI and OIDC_JWKS must be set',
    );
    expect(
      problemsOf({
        OIDC_ISSUER: 'https://a b',
        OIDC_AUDIENCE: ' , ',
        OIDC_JWKS_URI: 'http://idp.internal/jwks',
        OIDC_ROLES_CLAIM: 'realm_access..roles',
        OIDC_TENANT_CLAIM: 'has space',
      }),
    ).toEqual([
      'OIDC_ISSUER: must not contain spaces',
      'OIDC_AUDIENCE: must be an audience or a comma-separated list of them',
      'OIDC_JWKS_URI: must be an https URL (plain http only to localhost/127.0.0.1/::1)',
      'OIDC_ROLES_CLAIM: must be a claim name or a dotted path such as realm_access.roles',
      'OIDC_TENANT_CLAIM: must be a claim name or a dotted path such as realm_access.roles',
    ]);
    expect(problemsOf({ ...base, OIDC_JWKS_URI: 'https://user:pw@idp/jwks' })).toEqual([
      'OIDC_JWKS_URI: must not contain credentials',
    ]);
    expect(problemsOf({ ...base, OIDC_JWKS_URI: 'idp/jwks' })).toEqual([
      'OIDC_JWKS_URI: must be an absolute URL',
    ]);
  });

  it('never echoes values, even a private key pasted into OIDC_JWKS', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const secret = privateKey.export({ format: 'jwk' });
    const cases: NodeJS.ProcessEnv[] = [
      { ...base, OIDC_JWKS: JSON.stringify({ keys: [secret] }) },
      { ...base, OIDC_JWKS: `{"keys": [${secret.d}` },
      { ...base, OIDC_JWKS: JSON.stringify([secret]) },
      { ...base, OIDC_JWKS_URI: `https://idp/jwks?token=${secret.d}`, OIDC_JWKS: 'x' },
    ];
    const all = cases.map(problemsOf);
    expect(all[0]).toEqual([
      'OIDC_JWKS: keys[0]: contains private key material; publish only public keys',
    ]);
    expect(all[1]).toEqual([expect.stringMatching(/^OIDC_JWKS: not valid JSON/)]);
    expect(all[2]).toEqual(['OIDC_JWKS: JWKS must be a JSON object with a "keys" array']);
    for (const problems of all) {
      const text = problems.join('\n');
      expect(text).not.toContain(secret.d as string);
      expect(text).not.toContain(base.OIDC_ISSUER);
    }
    expect(Object.values(OIDC_ENV)).toEqual([
      'OIDC_ISSUER',
      'OIDC_AUDIENCE',
      'OIDC_JWKS_URI',
      'OIDC_JWKS',
      'OIDC_ROLES_CLAIM',
      'OIDC_TENANT_CLAIM',
    ]);
  });
});

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

describe('OIDC behind ApiAuthGuard over HTTP', () => {
  const issuer = new LocalOidcIssuer({ audience: 'mandate-console' });
  const operator = generateApiToken();
  const logger = new CapturingLogger();
  let app: INestApplication;
  let base: string;

  @Controller('console')
  class WhoAmIController {
    @Get('whoami')
    @UseGuards(ApiAuthGuard)
    whoami(@AuthPrincipal() principal: AuthenticatedPrincipal) {
      return principal;
    }
  }

  @Module({
    controllers: [WhoAmIController],
    providers: [
      apiAuthenticatorProvider(
        firstOf(
          new ApiTokenAuthenticator([
            { id: 'ops', roles: ['policy-admin'], sha256: operator.sha256 },
          ]),
          issuer.authenticator(),
        ),
      ),
    ],
  })
  class TestModule {}

  beforeAll(async () => {
    app = await NestFactory.create(TestModule, { logger, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (authorization: string) =>
    fetch(`${base}/console/whoami`, { headers: { authorization } });

  it('answers 200 for an OIDC token and for an operator token', async () => {
    const token = issuer.issue({ sub: 'ana', roles: ['reviewer'], tenant: 'acme' });
    const res = await get(`Bearer ${token}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'ana', roles: ['reviewer'], tenantId: 'acme' });
    const ops = await get(`Bearer ${operator.token}`);
    expect(await ops.json()).toEqual({ id: 'ops', roles: ['policy-admin'] });
  });

  it('answers 401 invalid_token with the reason for a bad token, 403 for a token without a role', async () => {
    const expired = issuer.issue({ sub: 'ana', roles: ['admin'], claims: { exp: 1000 } });
    const res = await get(`Bearer ${expired}`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="mandate", error="invalid_token"',
    );
    const body = await res.text();
    expect(JSON.parse(body)).toMatchObject({ message: 'invalid bearer token: expired' });
    expect(body).not.toContain(expired);

    const noRole = issuer.issue({ sub: 'bob', roles: ['viewer'], tenant: 'acme' });
    const denied = await get(`Bearer ${noRole}`);
    expect(denied.status).toBe(403);
    const deniedBody = await denied.text();
    expect(JSON.parse(deniedBody)).toMatchObject({ message: 'access denied: no allowed role' });
    expect(deniedBody).not.toContain(noRole);

    const unbound = issuer.issue({ sub: 'carol', roles: ['reviewer'] });
    expect((await get(`Bearer ${unbound}`)).status).toBe(403);

    for (const token of [expired, noRole, unbound])
      expect(logger.lines.join('\n')).not.toContain(token.split('.')[2]);
  });
});
