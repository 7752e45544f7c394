import { HubSpotAdapter, parseHubSpotConfig } from '@mandate/connector-hubspot';
import { SalesforceAdapter, type SalesforceConfig } from '@mandate/connector-salesforce';
import type { AdapterFactory } from '@mandate/connectors-domain';

/**
 * Adapters this app can run besides the built-in embedded CRM, by connector name. Settings come
 * from the tenant's entry in CRM_CONNECTORS_FILE (camelCase keys as in each adapter's README);
 * the tenant id is the entry's. Each constructor validates its settings and names every bad key
 * without echoing values.
 */
export const ADAPTER_FACTORIES: Readonly<Record<string, AdapterFactory>> = {
  salesforce: (tenant, settings) =>
    new SalesforceAdapter({ ...(settings as unknown as SalesforceConfig), tenantId: tenant }),
  hubspot: (tenant, settings) =>
    new HubSpotAdapter(parseHubSpotConfig({ ...settings, tenantId: tenant })),
};
