import type { AdapterFactory } from '@mandate/connectors-domain';

/** Adapters this app can run besides the built-in embedded CRM, by connector name. */
export const ADAPTER_FACTORIES: Readonly<Record<string, AdapterFactory>> = {};
