import { createHash, timingSafeEqual } from 'node:crypto';
import { Metadata } from '@grpc/grpc-js';

/**
 * Service credentials: a shared secret one service presents to another over gRPC (e.g.
 * human-review → policy for the console's kill switch), as `authorization: Bearer <token>`
 * metadata. The receiving service is configured with the sha256 of each accepted token only, as
 * for `MANDATE_API_TOKENS`; mint a pair with `generateApiToken()` (token + sha256).
 */

/** The gRPC metadata key a service credential travels in (`Bearer <token>`). */
export const SERVICE_TOKEN_METADATA_KEY = 'authorization';

/** A list of accepted token hashes is malformed. Never echoes a value (it may be a raw token). */
export class ServiceTokenConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ServiceTokenConfigError';
  }
}

const SHA256_HEX = /^[0-9a-f]{64}$/i;
// RFC 6750 b64token; at least 32 characters (a minted token has 47).
const TOKEN = /^[A-Za-z0-9\-._~+/]{32,512}=*$/;

/**
 * Parses comma-separated sha256 hex hashes of accepted tokens (blank: none). Every problem is
 * reported at once by position; values are never echoed, since a raw token configured by mistake
 * must not end up in logs. Hashes are returned lower-case, without duplicates.
 */
export function parseServiceTokenHashes(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  const problems: string[] = [];
  const hashes: string[] = [];
  raw.split(',').forEach((part, index) => {
    const value = part.trim();
    if (!SHA256_HEX.test(value))
      problems.push(
        `[${index}]: must be 64 hex characters (the sha256 of the token, never the token)`,
      );
    else if (!hashes.includes(value.toLowerCase())) hashes.push(value.toLowerCase());
  });
  if (problems.length > 0) throw new ServiceTokenConfigError(problems);
  return hashes;
}

/** Checks a service token's shape (what `generateApiToken` mints); never echoes it. */
export function parseServiceToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const token = raw.trim();
  if (!TOKEN.test(token))
    throw new ServiceTokenConfigError([
      'must be a bearer token of 32 to 512 characters [A-Za-z0-9-._~+/] (e.g. minted by generateApiToken)',
    ]);
  return token;
}

/** Outgoing metadata carrying `token` as `authorization: Bearer <token>`. */
export function serviceTokenMetadata(token: string): Metadata {
  const metadata = new Metadata();
  metadata.set(SERVICE_TOKEN_METADATA_KEY, `Bearer ${token}`);
  return metadata;
}

/** The bearer token of incoming metadata; undefined when absent or not `Bearer <token>`. */
export function serviceTokenOf(metadata: Metadata | undefined): string | undefined {
  const values = metadata?.get(SERVICE_TOKEN_METADATA_KEY) ?? [];
  if (values.length !== 1) return undefined;
  const value = values[0];
  const text = typeof value === 'string' ? value : value.toString('utf8');
  if (text.length > 1024) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(text);
  return match?.[1];
}

/**
 * Accepts a presented token whose sha256 is configured. The digest is compared against every
 * configured hash in constant time (no early exit), so timing reveals neither which nor how many.
 */
export class ServiceTokenVerifier {
  private readonly digests: readonly Buffer[];

  constructor(hashes: readonly string[]) {
    const bad = hashes.findIndex((h) => !SHA256_HEX.test(h));
    if (bad >= 0)
      throw new ServiceTokenConfigError([`[${bad}]: must be 64 hex characters (the sha256)`]);
    this.digests = hashes.map((h) => Buffer.from(h, 'hex'));
  }

  /** Whether any token is accepted at all (none configured: every check fails). */
  get configured(): boolean {
    return this.digests.length > 0;
  }

  verify(token: string | undefined): boolean {
    if (typeof token !== 'string' || token === '') return false;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let ok = false;
    for (const known of this.digests) if (timingSafeEqual(digest, known)) ok = true;
    return ok;
  }
}
