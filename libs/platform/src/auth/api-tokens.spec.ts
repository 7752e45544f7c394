import { createHash } from 'node:crypto';
import {
  API_TOKENS_ENV,
  ApiTokenAuthenticator,
  ApiTokenConfigError,
  AuthenticationError,
  generateApiToken,
  hashApiToken,
  loadApiTokens,
  parseApiTokens,
} from './api-tokens';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function problemsOf(json: string): string[] {
  try {
    parseApiTokens(json);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiTokenConfigError);
    return (err as ApiTokenConfigError).problems;
  }
  throw new Error('expected parseApiTokens to throw');
}

describe('parseApiTokens', () => {
  it('treats unset or blank as no tokens', () => {
    expect(parseApiTokens(undefined)).toEqual([]);
    expect(parseApiTokens('  ')).toEqual([]);
    expect(parseApiTokens('[]')).toEqual([]);
  });

  it('parses valid entries and normalises hashes to lower case', () => {
    const json = JSON.stringify([
      { id: 'alice', roles: ['policy-admin'], sha256: sha('a').toUpperCase() },
      { id: 'bob', roles: ['supervisor'], tenantId: 'acme', sha256: sha('b') },
      { id: 'carol', roles: [], sha256: sha('c') },
    ]);
    expect(parseApiTokens(json)).toEqual([
      { id: 'alice', roles: ['policy-admin'], sha256: sha('a') },
      { id: 'bob', roles: ['supervisor'], tenantId: 'acme', sha256: sha('b') },
      { id: 'carol', roles: [], sha256: sha('c') },
    ]);
  });

  it('rejects bad JSON without echoing the input', () => {
    const problems = problemsOf('mdt_secretvalue');
    expect(problems).toEqual([expect.stringMatching(/^not valid JSON/)]);
    expect(problems.join()).not.toContain('secretvalue');
  });

  it('rejects a non-array and non-object entries', () => {
    expect(problemsOf('{"id":"alice"}')).toEqual(['must be a JSON array of token entries']);
    expect(problemsOf('["x", null]')).toEqual(['[0]: must be an object', '[1]: must be an object']);
  });

  it('names the entry index and field of every problem', () => {
    const json = JSON.stringify([
      { id: 'ok', roles: ['policy-admin'], sha256: sha('ok') },
      { roles: ['policy-admin'], sha256: sha('1') },
      { id: 'two', roles: 'policy-admin', sha256: sha('2') },
      { id: 'three', roles: ['a', 3], sha256: sha('3') },
      { id: 'four', roles: [], sha256: 'abc' },
      { id: 'five', roles: [], tenantId: '', sha256: sha('5') },
    ]);
    expect(problemsOf(json)).toEqual([
      '[1].id: is required and must be a non-empty string',
      '[2].roles: must be an array of non-empty strings',
      '[3].roles: must be an array of non-empty strings',
      '[4].sha256: must be 64 hex characters (the sha256 of the token)',
      '[5].tenantId: must be a non-empty string when given',
    ]);
  });

  it('rejects duplicate ids and duplicate hashes (case-insensitively)', () => {
    const json = JSON.stringify([
      { id: 'alice', roles: [], sha256: sha('a') },
      { id: 'alice', roles: [], sha256: sha('b') },
      { id: 'bob', roles: [], sha256: sha('a').toUpperCase() },
    ]);
    expect(problemsOf(json)).toEqual([
      '[1].id: duplicate of entry [0]',
      '[2].sha256: duplicate of entry [0]',
    ]);
  });

  it('rejects a raw token configured in place of its hash, without echoing it', () => {
    const { token } = generateApiToken();
    const problems = problemsOf(
      JSON.stringify([
        { id: 'a', roles: [], token },
        { id: 'b', roles: [], sha256: token },
      ]),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^\[0\]\.token: unknown field/),
      '[0].sha256: must be 64 hex characters (the sha256 of the token)',
      '[1].sha256: must be 64 hex characters (the sha256 of the token)',
    ]);
    expect(problems.join()).not.toContain(token);
  });

  it('loads from MANDATE_API_TOKENS', () => {
    const entries = [{ id: 'alice', roles: ['policy-admin'], sha256: sha('a') }];
    expect(loadApiTokens({ [API_TOKENS_ENV]: JSON.stringify(entries) })).toEqual(entries);
    expect(loadApiTokens({})).toEqual([]);
  });
});

describe('generateApiToken', () => {
  it('mints a prefixed 32-byte base64url token and its sha256', () => {
    const { token, sha256 } = generateApiToken();
    expect(token).toMatch(/^mdt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(token.slice(4), 'base64url')).toHaveLength(32);
    expect(sha256).toBe(sha(token));
    expect(hashApiToken(token)).toBe(sha256);
    expect(generateApiToken().token).not.toBe(token);
  });
});

describe('ApiTokenAuthenticator', () => {
  const alice = generateApiToken();
  const bob = generateApiToken();
  const authenticator = new ApiTokenAuthenticator(
    parseApiTokens(
      JSON.stringify([
        { id: 'alice', roles: ['policy-admin'], sha256: alice.sha256 },
        { id: 'bob', roles: ['supervisor'], tenantId: 'acme', sha256: bob.sha256 },
      ]),
    ),
  );

  function failure(header: string | undefined): AuthenticationError {
    try {
      authenticator.authenticate(header);
    } catch (err) {
      expect(err).toBeInstanceOf(AuthenticationError);
      return err as AuthenticationError;
    }
    throw new Error('expected authenticate to throw');
  }

  it('returns the frozen principal of a known token', () => {
    const principal = authenticator.authenticate(`Bearer ${alice.token}`);
    expect(principal).toEqual({ id: 'alice', roles: ['policy-admin'] });
    expect(Object.isFrozen(principal)).toBe(true);
    expect(Object.isFrozen(principal.roles)).toBe(true);
    expect(authenticator.authenticate(`bearer  ${bob.token}`)).toEqual({
      id: 'bob',
      roles: ['supervisor'],
      tenantId: 'acme',
    });
  });

  it('rejects a missing header', () => {
    expect(failure(undefined).reason).toBe('missing');
    expect(failure('').reason).toBe('missing');
  });

  it('rejects malformed headers', () => {
    for (const header of [
      alice.token,
      `Basic ${alice.token}`,
      'Bearer',
      'Bearer ',
      `Bearer ${alice.token} extra`,
      `Bearer ${'a'.repeat(5000)}`,
    ]) {
      expect(failure(header).reason).toBe('malformed');
    }
  });

  it('rejects unknown tokens without echoing them', () => {
    const err = failure('Bearer mdt_not-a-real-token');
    expect(err.reason).toBe('invalid');
    expect(err.message).toBe('invalid bearer token');
    expect(failure(`Bearer ${alice.sha256}`).reason).toBe('invalid');
  });

  it('rejects everything when no tokens are configured', () => {
    expect(() => new ApiTokenAuthenticator([]).authenticate(`Bearer ${alice.token}`)).toThrow(
      AuthenticationError,
    );
  });

  it('refuses entries with a bad hash', () => {
    expect(() => new ApiTokenAuthenticator([{ id: 'x', roles: [], sha256: 'nope' }])).toThrow(
      ApiTokenConfigError,
    );
  });
});
