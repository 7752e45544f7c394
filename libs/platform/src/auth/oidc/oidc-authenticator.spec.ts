import {
  constants,
  createHmac,
  generateKeyPairSync,
  randomUUID,
  sign,
  type KeyObject,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiTokenAuthenticator, AuthenticationError, generateApiToken } from '../api-tokens';
import { firstOf } from './first-of';
import { LocalOidcIssuer } from './local-oidc-issuer';
import {
  OidcAccessDeniedError,
  OidcAuthenticationError,
  OidcAuthenticator,
  OidcOptionsError,
  claimAt,
  type OidcAuthenticatorOptions,
} from './oidc-authenticator';
import type { JsonWebKeySet, PublicJwk } from './jwks';

const ISSUER = 'https://idp.example.com/realms/mandate';
const AUDIENCE = 'mandate-console';
const T0 = Date.UTC(2030, 0, 1) / 1000; // seconds; a fixed clock for every test

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Builds a JWT by hand: the header and payload exactly as given, signed with `signer`. */
function jwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signer: (data: Buffer) => Buffer,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signer(Buffer.from(input)).toString('base64url')}`;
}

const rs256 = (key: KeyObject) => (data: Buffer) =>
  sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING });
const es256 = (key: KeyObject) => (data: Buffer) =>
  sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaJwk: PublicJwk = {
  ...(rsa.publicKey.export({ format: 'jwk' }) as PublicJwk),
  kid: 'rsa-1',
  use: 'sig',
  alg: 'RS256',
};

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-123',
    iat: T0 - 10,
    exp: T0 + 300,
    roles: ['reviewer'],
    tenant: 'acme',
    ...overrides,
  };
}

describe('OidcAuthenticator', () => {
  let clockMs = T0 * 1000;
  const now = () => clockMs;
  beforeEach(() => {
    clockMs = T0 * 1000;
  });

  const issuer = new LocalOidcIssuer({ issuer: ISSUER, audience: AUDIENCE, now });
  const jwks: JsonWebKeySet = { keys: [...issuer.jwks().keys, rsaJwk] };
  const make = (options: Partial<OidcAuthenticatorOptions> = {}) =>
    new OidcAuthenticator({ issuer: ISSUER, audience: AUDIENCE, jwks, now, ...options });
  const oidc = make();

  const rsToken = (payload = claims(), header: Record<string, unknown> = {}) =>
    jwt({ alg: 'RS256', typ: 'JWT', kid: 'rsa-1', ...header }, payload, rs256(rsa.privateKey));

  /** Every error a test provoked, to check none of them carries a token. */
  const seen: { token: string; error: unknown }[] = [];
  function failure(token: string, authenticator = oidc): OidcAuthenticationError {
    try {
      authenticator.authenticate(`Bearer ${token}`);
    } catch (error) {
      seen.push({ token, error });
      expect(error).toBeInstanceOf(OidcAuthenticationError);
      return error as OidcAuthenticationError;
    }
    throw new Error('expected authenticate to throw');
  }
  function denial(token: string, authenticator = oidc): OidcAccessDeniedError {
    try {
      authenticator.authenticate(`Bearer ${token}`);
    } catch (error) {
      seen.push({ token, error });
      expect(error).toBeInstanceOf(OidcAccessDeniedError);
      return error as OidcAccessDeniedError;
    }
    throw new Error('expected authenticate to throw');
  }

  describe('valid tokens', () => {
    it('accepts an ES256 token from LocalOidcIssuer and maps it to a frozen principal', () => {
      const token = issuer.issue({ sub: 'ana', roles: ['reviewer'], tenant: 'acme', name: 'Ana' });
      const principal = oidc.authenticate(`Bearer ${token}`);
      expect(principal).toEqual({ id: 'ana', roles: ['reviewer'], tenantId: 'acme' });
      expect(Object.isFrozen(principal)).toBe(true);
      expect(Object.isFrozen(principal.roles)).toBe(true);
    });

    it('accepts a hand-built RS256 token', () => {
      expect(oidc.authenticate(`Bearer ${rsToken()}`)).toEqual({
        id: 'user-123',
        roles: ['reviewer'],
        tenantId: 'acme',
      });
    });

    it('accepts an aud array containing the audience, and any of several audiences', () => {
      const token = rsToken(claims({ aud: ['other', AUDIENCE] }));
      expect(oidc.authenticate(`Bearer ${token}`).id).toBe('user-123');
      const multi = make({ audience: ['api', AUDIENCE] });
      expect(multi.authenticate(`Bearer ${rsToken()}`).id).toBe('user-123');
    });

    it('uses the only key when the token has no kid, but not when there are several', () => {
      const single = make({ jwks: { keys: [rsaJwk] } });
      const noKid = jwt({ alg: 'RS256' }, claims(), rs256(rsa.privateKey));
      expect(single.authenticate(`Bearer ${noKid}`).id).toBe('user-123');
      expect(failure(noKid).detail).toBe('unknown kid');
    });

    it('takes a static JWKS as JSON text', () => {
      const fromText = make({ jwks: JSON.stringify(jwks) });
      expect(fromText.authenticate(`Bearer ${rsToken()}`).id).toBe('user-123');
    });
  });

  describe('lifetime', () => {
    it('refuses an expired token, allowing the clock skew', () => {
      const token = rsToken(claims({ exp: T0 - 30 }));
      expect(oidc.authenticate(`Bearer ${token}`).id).toBe('user-123'); // within 60 s skew
      const strict = make({ clockSkewSeconds: 0 });
      expect(failure(token, strict).detail).toBe('expired');
      expect(failure(token, strict).message).toBe('invalid bearer token: expired');
      expect(failure(rsToken(claims({ exp: T0 - 61 }))).detail).toBe('expired');
    });

    it('refuses a token without exp, or with a non-numeric one', () => {
      const { exp: _exp, ...noExp } = claims();
      expect(failure(rsToken(noExp)).detail).toBe('missing exp');
      expect(failure(rsToken(claims({ exp: String(T0 + 300) }))).detail).toBe('missing exp');
    });

    it('refuses a token not yet valid (nbf) or issued in the future (iat)', () => {
      expect(failure(rsToken(claims({ nbf: T0 + 120 }))).detail).toBe('not yet valid');
      expect(oidc.authenticate(`Bearer ${rsToken(claims({ nbf: T0 + 30 }))}`).id).toBe('user-123');
      expect(failure(rsToken(claims({ iat: T0 + 120 }))).detail).toBe('issued in the future');
      expect(failure(rsToken(claims({ nbf: 'soon' }))).detail).toBe('malformed token');
    });

    it('follows the clock: a LocalOidcIssuer token expires after its ttl', () => {
      const token = issuer.issue({ sub: 'ana', roles: ['admin'], ttlSeconds: 60 });
      expect(oidc.authenticate(`Bearer ${token}`).id).toBe('ana');
      clockMs += 121_000;
      expect(failure(token).detail).toBe('expired');
    });
  });

  describe('issuer, audience, subject', () => {
    it('refuses a wrong issuer, even one signed by a trusted key', () => {
      expect(failure(rsToken(claims({ iss: 'https://evil.example.com' }))).detail).toBe(
        'wrong issuer',
      );
      expect(failure(rsToken(claims({ iss: `${ISSUER}/` }))).detail).toBe('wrong issuer');
      // The right iss, but signed by another issuer's key: not trusted.
      const other = new LocalOidcIssuer({ issuer: ISSUER, audience: AUDIENCE, now });
      expect(failure(other.issue({ sub: 'x', roles: ['admin'] })).detail).toBe('unknown kid');
    });

    it('refuses a wrong or missing audience', () => {
      expect(failure(rsToken(claims({ aud: 'another-app' }))).detail).toBe('wrong audience');
      expect(failure(rsToken(claims({ aud: ['a', 'b'] }))).detail).toBe('wrong audience');
      expect(failure(rsToken(claims({ aud: undefined }))).detail).toBe('wrong audience');
    });

    it('refuses a token without a usable sub', () => {
      expect(failure(rsToken(claims({ sub: undefined }))).detail).toBe('missing sub');
      expect(failure(rsToken(claims({ sub: '' }))).detail).toBe('missing sub');
      expect(failure(rsToken(claims({ sub: 42 }))).detail).toBe('missing sub');
    });
  });

  describe('signatures and algorithms', () => {
    it('refuses a tampered payload or signature', () => {
      const token = issuer.issue({ sub: 'ana', roles: ['reviewer'], tenant: 'acme' });
      const [h, , s] = token.split('.');
      const forged = b64({ ...claims(), sub: 'ana', roles: ['admin'] });
      expect(failure(`${h}.${forged}.${s}`).detail).toBe('bad signature');

      const rs = rsToken().split('.');
      const flipped = Buffer.from(rs[2], 'base64url');
      flipped[10] ^= 1;
      expect(failure(`${rs[0]}.${rs[1]}.${flipped.toString('base64url')}`).detail).toBe(
        'bad signature',
      );
    });

    it('refuses a token signed by an untrusted key under a trusted kid', () => {
      const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const token = jwt({ alg: 'RS256', kid: 'rsa-1' }, claims(), rs256(attacker.privateKey));
      expect(failure(token).detail).toBe('bad signature');
    });

    it('refuses an ES256 signature in DER form (JWS wants raw r||s)', () => {
      const priv = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...(priv.publicKey.export({ format: 'jwk' }) as PublicJwk), kid: 'ec-der' };
      const der = (data: Buffer) => sign('sha256', data, priv.privateKey); // DER by default
      const token = jwt({ alg: 'ES256', kid: 'ec-der' }, claims(), der);
      const withKey = make({ jwks: { keys: [jwk] } });
      expect(failure(token, withKey).detail).toBe('bad signature');
      const raw = jwt({ alg: 'ES256', kid: 'ec-der' }, claims(), es256(priv.privateKey));
      expect(withKey.authenticate(`Bearer ${raw}`).id).toBe('user-123');
    });

    it('refuses alg none, with or without a signature', () => {
      const input = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}`;
      expect(failure(`${input}.`).detail).toBe('malformed token');
      expect(failure(`${input}.${Buffer.from('x').toString('base64url')}`).detail).toBe(
        'unsupported alg',
      );
      const noneKid = `${b64({ alg: 'none', kid: 'rsa-1' })}.${b64(claims())}.AA`;
      expect(failure(noneKid).detail).toBe('unsupported alg');
      expect(failure(`${b64({ alg: 'NONE' })}.${b64(claims())}.AA`).detail).toBe('unsupported alg');
    });

    it('refuses HS256 signed with the public key as the secret (algorithm confusion)', () => {
      const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' });
      const asSecrets = [
        pem,
        JSON.stringify(rsaJwk),
        rsa.publicKey.export({ format: 'der', type: 'spki' }),
      ];
      for (const secret of asSecrets) {
        const hmac = (data: Buffer) => createHmac('sha256', secret).update(data).digest();
        const token = jwt({ alg: 'HS256', kid: 'rsa-1' }, claims(), hmac);
        expect(failure(token).detail).toBe('unsupported alg');
      }
    });

    it('refuses other algorithms, even ones the key type could do', () => {
      for (const alg of ['RS512', 'PS256', 'ES384', 'ES256K', 'EdDSA', 'HS512', undefined, 7]) {
        expect(failure(rsToken(claims(), { alg })).detail).toBe('unsupported alg');
      }
      const esOnly = make({ algorithms: ['ES256'] });
      expect(failure(rsToken(), esOnly).detail).toBe('unsupported alg');
    });

    it("refuses an alg that does not match the key's type", () => {
      // ES256 header naming the RSA key, RS256 header naming the EC key.
      const esOnRsa = jwt({ alg: 'ES256', kid: 'rsa-1' }, claims(), () => Buffer.alloc(64));
      expect(failure(esOnRsa).detail).toBe('key does not match alg');
      const rsOnEc = jwt({ alg: 'RS256', kid: issuer.kid }, claims(), rs256(rsa.privateKey));
      expect(failure(rsOnEc).detail).toBe('key does not match alg');
    });

    it('refuses critical header extensions it does not understand', () => {
      expect(failure(rsToken(claims(), { crit: ['exp'] })).detail).toBe(
        'unsupported critical header',
      );
    });

    it('refuses an unknown kid (static JWKS: no refetch)', () => {
      expect(failure(rsToken(claims(), { kid: 'rsa-2' })).detail).toBe('unknown kid');
      expect(failure(rsToken(claims(), { kid: 5 })).detail).toBe('malformed token');
    });
  });

  describe('refused JWKs', () => {
    const problems = (keys: unknown[]) => {
      try {
        make({ jwks: { keys } as JsonWebKeySet });
      } catch (err) {
        expect(err).toBeInstanceOf(OidcOptionsError);
        return (err as OidcOptionsError).problems;
      }
      throw new Error('expected the JWKS to be refused');
    };
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const ecJwk = ec.publicKey.export({ format: 'jwk' });

    it('refuses a JWK whose kty/crv contradicts its alg', () => {
      expect(problems([{ ...rsaJwk, alg: 'ES256' }])).toEqual([
        expect.stringMatching(/^jwks\.keys\[0\]: "kty"\/"crv" do not match the declared alg ES256/),
      ]);
      expect(problems([{ ...ecJwk, alg: 'RS256' }])).toEqual([
        expect.stringMatching(/do not match the declared alg RS256/),
      ]);
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
        format: 'jwk',
      });
      expect(problems([{ ...p384, alg: 'ES256' }])).toEqual([
        expect.stringMatching(/do not match the declared alg ES256/),
      ]);
      expect(problems([{ ...ecJwk, crv: 'P-384', alg: 'ES256' }])).toEqual([
        expect.stringMatching(/do not match the declared alg ES256/),
      ]);
    });

    it('refuses private key material, short RSA keys and garbage, without echoing them', () => {
      const privateJwk = ec.privateKey.export({ format: 'jwk' });
      const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
        format: 'jwk',
      });
      const found = problems([privateJwk, short, { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }]);
      expect(found).toEqual([
        'jwks.keys[0]: contains private key material; publish only public keys',
        'jwks.keys[1]: RSA keys must have at least 2048 bits',
        'jwks.keys[2]: invalid key material',
      ]);
      expect(found.join()).not.toContain(privateJwk.d as string);
    });

    it('skips encryption keys and key types no accepted alg uses', () => {
      const { publicKey: ed } = generateKeyPairSync('ed25519');
      const skipped = [
        { ...rsaJwk, kid: 'enc', use: 'enc' },
        { ...rsaJwk, kid: 'ops', key_ops: ['encrypt'] },
        { ...rsaJwk, kid: 'rs512', alg: 'RS512' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { ...ed.export({ format: 'jwk' }), kid: 'ed' },
      ];
      expect(() => make({ jwks: { keys: skipped } as JsonWebKeySet })).toThrow(
        'contains no usable signing key',
      );
      const withOne = make({ jwks: { keys: [...skipped, rsaJwk] } as JsonWebKeySet });
      expect(withOne.jwksStatus().kids).toEqual(['rsa-1']);
      // the RS512-declared copy of the same key is not a way in
      expect(failure(rsToken(claims(), { kid: 'rs512' }), withOne).detail).toBe('unknown kid');
    });
  });

  describe('roles and tenant', () => {
    it('keeps only allowed roles, deduplicated, and refuses a token with none (403)', () => {
      const token = rsToken(
        claims({ roles: ['offline_access', 'reviewer', 'reviewer', 'auditor'] }),
      );
      expect(oidc.authenticate(`Bearer ${token}`).roles).toEqual(['reviewer', 'auditor']);
      const err = denial(rsToken(claims({ roles: ['offline_access', 'uma_authorization'] })));
      expect(err.detail).toBe('no allowed role');
      expect(err.getStatus()).toBe(403);
      expect(denial(rsToken(claims({ roles: undefined }))).detail).toBe('no allowed role');
      expect(denial(rsToken(claims({ roles: [] }))).detail).toBe('no allowed role');
    });

    it('refuses a roles or tenant claim of the wrong shape', () => {
      expect(denial(rsToken(claims({ roles: 'reviewer' }))).detail).toBe(
        'malformed role or tenant claim',
      );
      for (const tenant of [['acme'], 7, '', 'x'.repeat(200)])
        expect(denial(rsToken(claims({ tenant }))).detail).toBe('malformed role or tenant claim');
    });

    it('requires a tenant for tenant-bound roles; admin may be global', () => {
      for (const role of ['reviewer', 'supervisor', 'auditor'])
        expect(denial(rsToken(claims({ roles: [role], tenant: undefined }))).detail).toBe(
          'tenant claim missing',
        );
      expect(
        denial(rsToken(claims({ roles: ['admin', 'reviewer'], tenant: undefined }))).detail,
      ).toBe('tenant claim missing');
      expect(
        oidc.authenticate(`Bearer ${rsToken(claims({ roles: ['admin'], tenant: undefined }))}`),
      ).toEqual({
        id: 'user-123',
        roles: ['admin'],
      });
      expect(oidc.authenticate(`Bearer ${rsToken(claims({ roles: ['admin'] }))}`)).toEqual({
        id: 'user-123',
        roles: ['admin'],
        tenantId: 'acme',
      });
    });

    it('reads roles and tenant from dotted paths (Keycloak realm_access.roles)', () => {
      const keycloak = make({ rolesClaim: 'realm_access.roles', tenantClaim: 'org.tenant' });
      const token = rsToken(
        claims({
          roles: ['admin'], // the top-level claim is not the configured one
          tenant: 'ignored',
          realm_access: { roles: ['supervisor', 'default-roles-mandate'] },
          org: { tenant: 'globex' },
        }),
      );
      expect(keycloak.authenticate(`Bearer ${token}`)).toEqual({
        id: 'user-123',
        roles: ['supervisor'],
        tenantId: 'globex',
      });
      const missing = rsToken(claims({ realm_access: { roles: 'supervisor' } }));
      expect(denial(missing, keycloak).detail).toBe('malformed role or tenant claim');
      expect(denial(rsToken(claims()), keycloak).detail).toBe('no allowed role');
    });

    it('reads a namespaced claim whose name contains dots as one claim', () => {
      const ns = make({ rolesClaim: 'https://mandate.example/roles' });
      const token = rsToken(
        claims({ roles: undefined, 'https://mandate.example/roles': ['auditor'] }),
      );
      expect(ns.authenticate(`Bearer ${token}`).roles).toEqual(['auditor']);
      expect(claimAt({ a: { b: { c: 1 } } }, 'a.b.c')).toBe(1);
      expect(claimAt({ a: { b: [1] } }, 'a.b.0')).toBeUndefined();
      expect(claimAt({ a: {} }, 'a.constructor')).toBeUndefined();
    });

    it('takes a custom allow-list and tenant-bound set', () => {
      const custom = make({ allowedRoles: ['policy-admin', 'reviewer'], tenantBoundRoles: [] });
      const token = rsToken(
        claims({ roles: ['policy-admin', 'admin', 'reviewer'], tenant: undefined }),
      );
      expect(custom.authenticate(`Bearer ${token}`).roles).toEqual(['policy-admin', 'reviewer']);
    });
  });

  describe('the Authorization header', () => {
    it('refuses a missing or malformed header, and a token that is not a JWT', () => {
      const reasonOf = (header: string | undefined) => {
        try {
          oidc.authenticate(header);
        } catch (err) {
          expect(err).toBeInstanceOf(AuthenticationError);
          return (err as AuthenticationError).reason;
        }
        throw new Error('expected a failure');
      };
      expect(reasonOf(undefined)).toBe('missing');
      expect(reasonOf(' ')).toBe('missing');
      expect(reasonOf(`Basic ${rsToken()}`)).toBe('malformed');
      expect(reasonOf(`Bearer ${rsToken()} x`)).toBe('malformed');
      expect(reasonOf(`Bearer ${'a'.repeat(17_000)}`)).toBe('malformed');
      const { token } = generateApiToken();
      const notJwt = failure(token);
      expect(notJwt.detail).toBe('not a JWT');
      expect(notJwt.claimed).toBe(false);
      expect(notJwt.message).toBe('invalid bearer token');
      expect(failure('a.b').detail).toBe('not a JWT');
      expect(failure('a.b.c.d').detail).toBe('not a JWT');
      expect(failure(`${b64('str')}.${b64(claims())}.AA`).detail).toBe('malformed token');
      expect(
        failure(`${Buffer.from('{"alg":').toString('base64url')}.${b64(claims())}.AA`).detail,
      ).toBe('malformed token');
    });
  });

  describe('options', () => {
    it('reports every bad option at once', () => {
      expect(
        () =>
          new OidcAuthenticator({
            issuer: '',
            audience: [],
            jwksUri: 'http://idp.example.com/jwks',
            jwks,
            rolesClaim: 'a..b',
            allowedRoles: [],
            algorithms: ['HS256' as never],
            clockSkewSeconds: 3600,
          }),
      ).toThrow(
        expect.objectContaining({
          problems: [
            'issuer: must be a non-empty string without spaces',
            'audience: must be a non-empty string (or a non-empty list of them)',
            'exactly one of jwksUri and jwks must be given',
            'jwksUri: must be an https URL (plain http only to localhost/127.0.0.1/::1)',
            'rolesClaim: must be a claim name or a dotted path such as realm_access.roles',
            'allowedRoles: must not be empty (every token would be refused)',
            'algorithms: must be a non-empty subset of RS256, ES256',
            'clockSkewSeconds: must be a number from 0 to 300',
          ],
        }),
      );
    });
  });

  it('never puts the token (or any part of it) in an error', () => {
    // Runs last: checks every error the tests above provoked.
    expect(seen.length).toBeGreaterThan(30);
    for (const { token, error } of seen) {
      const err = error as Error;
      const text = [err.message, err.stack, String(err), JSON.stringify(err)].join('\n');
      expect(text).not.toContain(token);
      for (const part of token.split('.').filter((p) => p.length > 8))
        expect(text).not.toContain(part);
    }
  });
});

describe('OidcAuthenticator with a JWKS endpoint', () => {
  let clockMs = T0 * 1000;
  const now = () => clockMs;
  let served: JsonWebKeySet = { keys: [] };
  let status = 200;
  let requests = 0;
  let server: Server;
  let uri: string;

  const issuerA = new LocalOidcIssuer({ issuer: ISSUER, audience: AUDIENCE, now });
  const issuerB = new LocalOidcIssuer({ issuer: ISSUER, audience: AUDIENCE, now });

  beforeAll(async () => {
    server = createServer((_req, res) => {
      requests += 1;
      if (status !== 200) {
        res.writeHead(status).end('oops');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(served));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    clockMs = T0 * 1000;
    served = issuerA.jwks();
    status = 200;
    requests = 0;
  });

  const problems: string[] = [];
  const make = (options: Partial<OidcAuthenticatorOptions> = {}) =>
    new OidcAuthenticator({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: uri,
      now,
      onJwksProblem: (m) => problems.push(m),
      ...options,
    });
  const bearer = (issuer: LocalOidcIssuer, sub = 'ana') =>
    `Bearer ${issuer.issue({ sub, roles: ['reviewer'], tenant: 'acme' })}`;
  /** Waits for a background fetch to land (polling, so a slow machine does not flake). */
  const until = async (done: () => boolean) => {
    for (let waited = 0; !done(); waited += 5) {
      if (waited > 5000) throw new Error('timed out waiting for the background fetch');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  const detailOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as OidcAuthenticationError).detail;
    }
    return 'accepted';
  };

  it('loads the keys at start and verifies tokens', async () => {
    const oidc = make();
    expect(detailOf(() => oidc.authenticate(bearer(issuerA)))).toBe('signing keys unavailable');
    await oidc.start();
    expect(oidc.authenticate(bearer(issuerA)).id).toBe('ana');
    expect(oidc.jwksStatus()).toMatchObject({ keys: 1, kids: [issuerA.kid] });
  });

  it('waits for the first load in authenticateAsync when start was not awaited', async () => {
    const oidc = make();
    await expect(oidc.authenticateAsync(bearer(issuerA))).resolves.toMatchObject({ id: 'ana' });
    expect(requests).toBe(1);
  });

  it('refetches on an unknown kid and finds the rotated key', async () => {
    const oidc = make();
    await oidc.start();
    served = issuerB.jwks(); // the IdP rotates its signing key
    clockMs += 31_000; // past the refetch interval that start() opened
    // The synchronous path refuses the request that reveals the new kid, and triggers a refetch.
    expect(detailOf(() => oidc.authenticate(bearer(issuerB)))).toBe('unknown kid');
    await expect(oidc.authenticateAsync(bearer(issuerB))).resolves.toMatchObject({ id: 'ana' });
    expect(requests).toBe(2);
    expect(oidc.authenticate(bearer(issuerB)).id).toBe('ana');
    // The old key is gone from the JWKS, so its tokens are no longer accepted.
    expect(detailOf(() => oidc.authenticate(bearer(issuerA)))).toBe('unknown kid');
  });

  it('refetches at most once per interval, however many unknown kids arrive', async () => {
    const oidc = make({ jwksMinRefetchSeconds: 30 });
    await oidc.start();
    expect(requests).toBe(1);
    const forged = (kid: string) =>
      `Bearer ${issuerB.issue({ sub: 'x', roles: ['admin'] }).replace(/^[^.]+/, b64({ alg: 'ES256', kid }))}`;

    // A flood of tokens with random kids, sync and async, concurrently: one fetch (just after start,
    // so none at all within the first 30 s).
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => oidc.authenticateAsync(forged(randomUUID()))),
    );
    for (let i = 0; i < 50; i += 1)
      expect(detailOf(() => oidc.authenticate(forged(randomUUID())))).toBe('unknown kid');
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(requests).toBe(1);

    clockMs += 31_000;
    const flood = await Promise.allSettled(
      Array.from({ length: 50 }, () => oidc.authenticateAsync(forged(randomUUID()))),
    );
    expect(flood.every((r) => r.status === 'rejected')).toBe(true);
    expect(requests).toBe(2); // single-flight: 50 concurrent misses, one fetch

    clockMs += 10_000;
    served = issuerB.jwks();
    // A legitimate rotation within the interval waits for the next window.
    await expect(oidc.authenticateAsync(bearer(issuerB))).rejects.toMatchObject({
      detail: 'unknown kid',
    });
    expect(requests).toBe(2);
    clockMs += 21_000;
    await expect(oidc.authenticateAsync(bearer(issuerB))).resolves.toMatchObject({ id: 'ana' });
    expect(requests).toBe(3);
  });

  it('refreshes a stale JWKS in the background and keeps the old keys if that fails', async () => {
    const oidc = make({ jwksCacheTtlSeconds: 600, jwksMinRefetchSeconds: 30 });
    await oidc.start();
    clockMs += 300_000;
    oidc.authenticate(bearer(issuerA));
    expect(requests).toBe(1); // still fresh

    clockMs += 301_000;
    status = 503;
    problems.length = 0;
    expect(oidc.authenticate(bearer(issuerA)).id).toBe('ana'); // stale keys still serve
    await until(() => oidc.jwksStatus().lastError !== undefined);
    expect(requests).toBe(2);
    expect(problems).toEqual(['JWKS fetch failed: HTTP 503']);
    expect(oidc.jwksStatus().lastError).toBe('JWKS fetch failed: HTTP 503');
    expect(oidc.authenticate(bearer(issuerA)).id).toBe('ana'); // previous keys kept
    expect(requests).toBe(2); // and no retry before the interval

    status = 200;
    served = { keys: [...issuerA.jwks().keys, ...issuerB.jwks().keys] };
    clockMs += 31_000;
    oidc.authenticate(bearer(issuerA));
    await until(() => oidc.jwksStatus().keys === 2);
    expect(requests).toBe(3);
    expect(oidc.jwksStatus()).toMatchObject({ keys: 2, fetchedAt: clockMs });
    expect(oidc.jwksStatus().lastError).toBeUndefined();
  });

  it('fails start() with a clear error, and refuses a JWKS without usable keys', async () => {
    status = 500;
    await expect(make().start()).rejects.toThrow('JWKS fetch failed: HTTP 500');
    status = 200;
    served = { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] };
    await expect(make().start()).rejects.toThrow('JWKS fetch failed: no usable signing key');
    const closed = make({ jwksUri: 'http://127.0.0.1:1/jwks' });
    await expect(closed.start()).rejects.toThrow('JWKS fetch failed: network error');
  });

  it('times out a hanging JWKS endpoint', async () => {
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const port = (hanging.address() as AddressInfo).port;
      const oidc = make({ jwksUri: `http://127.0.0.1:${port}/jwks`, jwksFetchTimeoutMs: 200 });
      await expect(oidc.start()).rejects.toThrow('JWKS fetch failed: timed out');
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  });
});

describe('firstOf', () => {
  const issuer = new LocalOidcIssuer({ issuer: ISSUER, audience: AUDIENCE });
  const operator = generateApiToken();
  const apiTokens = new ApiTokenAuthenticator([
    { id: 'ops-bot', roles: ['policy-admin'], sha256: operator.sha256 },
  ]);
  const oidc = issuer.authenticator();

  const errorOf = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (err) {
      return err as Error;
    }
    throw new Error('expected a failure');
  };

  it('accepts operator tokens and OIDC tokens, in either order', async () => {
    const jwtToken = issuer.issue({ sub: 'ana', roles: ['reviewer'], tenant: 'acme' });
    for (const both of [firstOf(apiTokens, oidc), firstOf(oidc, apiTokens)]) {
      expect(both.authenticate(`Bearer ${operator.token}`)).toEqual({
        id: 'ops-bot',
        roles: ['policy-admin'],
      });
      expect(both.authenticate(`Bearer ${jwtToken}`)).toMatchObject({ id: 'ana' });
      await expect(both.authenticateAsync(`Bearer ${jwtToken}`)).resolves.toMatchObject({
        id: 'ana',
      });
    }
  });

  it("reports the OIDC verdict on a JWT, the token store's on anything else", () => {
    const expired = issuer.issue({ sub: 'ana', roles: ['admin'], claims: { exp: 1000 } });
    for (const both of [firstOf(apiTokens, oidc), firstOf(oidc, apiTokens)]) {
      const onJwt = errorOf(() => both.authenticate(`Bearer ${expired}`));
      expect(onJwt).toBeInstanceOf(OidcAuthenticationError);
      expect(onJwt.message).toBe('invalid bearer token: expired');
      const onOpaque = errorOf(() => both.authenticate('Bearer mdt_unknown'));
      expect(onOpaque).not.toBeInstanceOf(OidcAuthenticationError);
      expect(onOpaque.message).toBe('invalid bearer token');
      expect((errorOf(() => both.authenticate(undefined)) as AuthenticationError).reason).toBe(
        'missing',
      );
    }
  });

  it('does not fall through on an access denial', async () => {
    const noRole = issuer.issue({ sub: 'ana', roles: ['viewer'], tenant: 'acme' });
    const both = firstOf(oidc, apiTokens);
    expect(errorOf(() => both.authenticate(`Bearer ${noRole}`))).toBeInstanceOf(
      OidcAccessDeniedError,
    );
    await expect(both.authenticateAsync(`Bearer ${noRole}`)).rejects.toBeInstanceOf(
      OidcAccessDeniedError,
    );
  });

  it('needs at least one authenticator', () => {
    expect(() => firstOf()).toThrow('at least one');
  });
});
