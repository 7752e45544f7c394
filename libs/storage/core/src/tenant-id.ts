import { InvalidTenantIdError } from './storage.errors';

/**
 * A validated tenant identifier. The brand makes a plain `string` unassignable, so every
 * storage call must go through `tenantId()` (or a value that already did) — a query that
 * forgets its tenant, or passes an unchecked string, does not compile.
 */
export type TenantId = string & { readonly __brand: 'TenantId' };

/** Anything that acts on behalf of exactly one tenant. */
export interface TenantScope {
  readonly tenantId: TenantId;
}

/**
 * Lower-case letters, digits, `-` and `_`; starts with a letter or digit; 1..63 characters.
 * No `:` is allowed, which keeps the storage key `${tenant}:${id}` unambiguous.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function isTenantId(value: unknown): value is TenantId {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

/** Validates and brands a tenant id; throws `InvalidTenantIdError` otherwise. */
export function tenantId(value: string): TenantId {
  if (!isTenantId(value)) {
    throw new InvalidTenantIdError(value);
  }
  return value;
}
