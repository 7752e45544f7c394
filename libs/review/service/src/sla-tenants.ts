import type { TenantSource } from '@mandate/review-domain';
import type { TenantId } from '@mandate/storage';

export interface SlaTenantSourceOptions {
  /** Tenants known from configuration (the reviewer directory's); read at each sweep. */
  readonly configured: () => readonly TenantId[];
  /** Tenants this process has seen a decision for; read at each sweep. */
  readonly seen: () => readonly TenantId[];
  /** The durable list of tenants that ever had a task (`review_tenants`). */
  readonly registry: { tenants(): Promise<readonly TenantId[]> };
  readonly logger: { warn(obj: object, msg: string): void };
}

/**
 * The SLA sweep's tenants: configured and seen ones at once (no read), then the durable registry,
 * which after a restart brings back tenants with open tasks but no reviewers and no message
 * since. When the registry cannot be read (storage down), the sweep still visits the configured
 * and seen tenants, with a warning; the next sweep reads the registry again.
 */
export function slaTenantSource(o: SlaTenantSourceOptions): TenantSource {
  return async () => {
    const known = [...o.configured(), ...o.seen()];
    let registered: readonly TenantId[] = [];
    try {
      registered = await o.registry.tenants();
    } catch (err) {
      o.logger.warn(
        { err, tenants: [...new Set(known)].length },
        'SLA sweep: the tenant registry (review_tenants) could not be read; sweeping the configured and seen tenants only',
      );
    }
    return [...new Set([...known, ...registered])];
  };
}
