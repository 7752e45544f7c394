import {
  ManagedConnector,
  TenantRateLimiter,
  type ConnectorAdapter,
  type ConnectorTelemetry,
  type RetryPolicy,
} from '@mandate/connector-sdk';
import type { TenantId } from '@mandate/storage';

/** Builds a tenant's adapter from its settings (credentials, mapping); throws on bad settings. */
export type AdapterFactory = (
  tenant: TenantId,
  settings: Readonly<Record<string, unknown>>,
) => ConnectorAdapter;

/**
 * Which CRM each tenant uses. `default` serves every tenant not listed (`"none"`: unlisted
 * tenants have no connector and their actions are refused). Settings hold credentials: the
 * configuration comes from a mounted secret, and is never logged.
 *
 * ```json
 * { "default": "embedded",
 *   "tenants": { "globex": { "connector": "salesforce", "settings": { "instanceUrl": "…" } } } }
 * ```
 */
export interface ConnectorsConfig {
  readonly default: string;
  readonly tenants: Readonly<
    Record<
      string,
      { readonly connector: string; readonly settings?: Readonly<Record<string, unknown>> }
    >
  >;
}

export const DEFAULT_CONNECTORS_CONFIG: ConnectorsConfig = { default: 'embedded', tenants: {} };

export class ConnectorsConfigError extends Error {
  override readonly name = 'ConnectorsConfigError';
}

/** Parses and checks a connectors configuration; every problem is named (values never echoed). */
export function parseConnectorsConfig(json: string, known: readonly string[]): ConnectorsConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new ConnectorsConfigError(
      `connectors configuration is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const problems: string[] = [];
  const o = raw as { default?: unknown; tenants?: unknown };
  if (typeof o !== 'object' || o === null || Array.isArray(o))
    throw new ConnectorsConfigError(
      'connectors configuration must be an object {default, tenants}',
    );
  const def = o.default ?? 'embedded';
  if (typeof def !== 'string' || (def !== 'none' && !known.includes(def)))
    problems.push(`default must be "none" or one of ${known.join(', ')}`);
  const tenants = o.tenants ?? {};
  if (typeof tenants !== 'object' || tenants === null || Array.isArray(tenants))
    problems.push('tenants must be an object of {tenant: {connector, settings}}');
  else
    for (const [tenant, entry] of Object.entries(tenants as Record<string, unknown>)) {
      const e = entry as { connector?: unknown; settings?: unknown };
      if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(tenant))
        problems.push(`tenant id "${tenant.slice(0, 64)}" is invalid`);
      if (typeof e !== 'object' || e === null) {
        problems.push(`tenants.${tenant} must be {connector, settings}`);
        continue;
      }
      if (typeof e.connector !== 'string' || !known.includes(e.connector))
        problems.push(`tenants.${tenant}.connector must be one of ${known.join(', ')}`);
      if (
        e.settings !== undefined &&
        (typeof e.settings !== 'object' || e.settings === null || Array.isArray(e.settings))
      )
        problems.push(`tenants.${tenant}.settings must be an object`);
    }
  if (problems.length)
    throw new ConnectorsConfigError(`invalid connectors configuration: ${problems.join('; ')}`);
  return { default: def as string, tenants: tenants as ConnectorsConfig['tenants'] };
}

export interface ConnectorRegistryOptions {
  readonly telemetry?: ConnectorTelemetry;
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
}

/**
 * Tenants' connectors, built on first use and kept: one adapter per tenant (its credentials),
 * one rate limiter per connector type (per-tenant buckets inside). Configured tenants are
 * built eagerly by `validate()` at start-up so bad settings stop the service before it serves.
 */
export class ConnectorRegistry {
  private readonly connectors = new Map<string, ManagedConnector | null>();
  private readonly limiters = new Map<string, TenantRateLimiter>();

  constructor(
    private readonly config: ConnectorsConfig,
    private readonly factories: Readonly<Record<string, AdapterFactory>>,
    private readonly options: ConnectorRegistryOptions = {},
  ) {}

  /** Builds every configured tenant's adapter; throws the first bad tenant's error. */
  validate(): void {
    for (const tenant of Object.keys(this.config.tenants)) this.resolve(tenant as TenantId);
  }

  /** Connector type of a tenant, or undefined when it has none. */
  connectorOf(tenant: string): string | undefined {
    const name = this.config.tenants[tenant]?.connector ?? this.config.default;
    return name === 'none' ? undefined : name;
  }

  /** Tenants configured explicitly (polling hosts iterate these). */
  configuredTenants(): string[] {
    return Object.keys(this.config.tenants);
  }

  resolve(tenant: TenantId): ManagedConnector | undefined {
    const cached = this.connectors.get(tenant);
    if (cached !== undefined) return cached ?? undefined;
    const name = this.connectorOf(tenant);
    if (!name) {
      this.connectors.set(tenant, null);
      return undefined;
    }
    const factory = this.factories[name];
    if (!factory) throw new ConnectorsConfigError(`no adapter factory for connector "${name}"`);
    let adapter: ConnectorAdapter;
    try {
      adapter = factory(tenant, this.config.tenants[tenant]?.settings ?? {});
    } catch (err) {
      throw new ConnectorsConfigError(
        `tenant ${tenant}: ${name} settings are invalid: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    let limiter = this.limiters.get(name);
    if (!limiter) {
      limiter = new TenantRateLimiter(adapter.capabilities.rateLimit);
      this.limiters.set(name, limiter);
    }
    const connector = new ManagedConnector(adapter, {
      tenantId: tenant,
      limiter,
      telemetry: this.options.telemetry,
      retry: this.options.retry,
      signal: this.options.signal,
    });
    this.connectors.set(tenant, connector);
    return connector;
  }

  async close(): Promise<void> {
    for (const c of this.connectors.values()) await c?.close();
    this.connectors.clear();
  }
}
