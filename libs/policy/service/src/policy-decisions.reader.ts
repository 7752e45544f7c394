import type { ShadowDivergenceDoc } from '@mandate/policy-domain';
import type { DocumentStore, TenantId } from '@mandate/storage';

/** Read access to the decision-side documents the tenant controller serves. */
export class PolicyDecisionsReader {
  constructor(private readonly store: DocumentStore<ShadowDivergenceDoc>) {}

  divergences(tenant: TenantId, bundle: string | undefined, limit: number) {
    return this.store.find(tenant, bundle ? { shadowBundle: bundle } : {}, {
      sort: { decidedAt: -1 },
      limit,
    });
  }
}
