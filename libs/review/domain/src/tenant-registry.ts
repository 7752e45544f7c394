import { SYSTEM_TENANT } from '@mandate/messaging';
import {
  DuplicateKeyError,
  isTenantId,
  MAX_FIND_LIMIT,
  tenantId,
  type DocumentStore,
  type Filter,
  type TenantId,
} from '@mandate/storage';
import type { ReviewTenantDoc } from './collections';
import type { Clock } from './ports';

/** The scope every `review_tenants` document is stored under. */
export const REVIEW_TENANTS_SCOPE: TenantId = tenantId(SYSTEM_TENANT);

/** Where the task opener records a tenant before its first task is written. */
export interface TenantRegistrar {
  register(tenant: TenantId): Promise<void>;
}

/**
 * The durable tenant list of the review service. `register` is idempotent (an insert whose
 * duplicate is ignored, at most one write per tenant and process; replicas may race, one wins);
 * `tenants()` reads the whole list, paged by id.
 */
export class ReviewTenantRegistry implements TenantRegistrar {
  private readonly registered = new Set<TenantId>();

  constructor(
    private readonly store: DocumentStore<ReviewTenantDoc>,
    private readonly now: Clock = () => new Date(),
  ) {}

  async register(tenant: TenantId): Promise<void> {
    if (this.registered.has(tenant)) return;
    try {
      await this.store.insert(REVIEW_TENANTS_SCOPE, { id: tenant, firstTaskAt: this.now() });
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
    }
    this.registered.add(tenant);
  }

  /** Every registered tenant, in id order. */
  async tenants(): Promise<TenantId[]> {
    const out: TenantId[] = [];
    let after: string | undefined;
    for (;;) {
      const filter: Filter<ReviewTenantDoc> = after === undefined ? {} : { id: { $gt: after } };
      const page = await this.store.find(REVIEW_TENANTS_SCOPE, filter, {
        limit: MAX_FIND_LIMIT,
        sort: { id: 1 },
      });
      for (const doc of page) if (isTenantId(doc.id)) out.push(doc.id);
      if (page.length < MAX_FIND_LIMIT) return out;
      after = page[page.length - 1].id;
    }
  }
}
