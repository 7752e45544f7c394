import { fieldMappingProblems, type FieldMappingConfig } from '@mandate/connector-sdk';

/**
 * How one tenant's Salesforce org is reached. Secrets (`clientSecret`, `refreshToken`,
 * `accessToken`) only ever go to the org's token endpoint and Authorization headers; they never
 * appear in errors or logs.
 */
export interface SalesforceConfig {
  /** The Mandate tenant this org belongs to; requests for another tenant are refused. */
  readonly tenantId: string;
  /** OAuth host: https://login.salesforce.com, https://test.salesforce.com or the My Domain URL. */
  readonly loginUrl: string;
  /** The org's instance (My Domain) URL, e.g. https://acme.my.salesforce.com. */
  readonly instanceUrl: string;
  /** Connected app (or external client app) consumer key. */
  readonly clientId: string;
  /** Connected app consumer secret. */
  readonly clientSecret: string;
  /** Refresh token of the integration user (web server flow with the refresh_token scope). */
  readonly refreshToken: string;
  /** A current access token, if one is at hand; otherwise the first call refreshes. */
  readonly accessToken?: string;
  /** REST API version, default "62.0". */
  readonly apiVersion?: string;
  /** A tenant's partial mapping, overlaid on the default (`mergeFieldMappings`). */
  readonly fieldMapping?: FieldMappingConfig;
  /** Per-request timeout, default 30 s. */
  readonly requestTimeoutMs?: number;
  /** Wait suggested for REQUEST_LIMIT_EXCEEDED when Salesforce sends no Retry-After; default 60 s. */
  readonly rateLimitRetryAfterMs?: number;
  /**
   * Changes younger than this (by Salesforce's clock, from the `Date` header) are left for the
   * next poll, so a transaction still committing cannot slip behind the cursor. Default 30 s.
   */
  readonly pollLagSeconds?: number;
  /** Digits of the minor unit of the org's currency (amountMinor ↔ Amount); default 2. */
  readonly minorUnitDigits?: number;
  /** Lead status written by qualify_lead; default "Qualified". */
  readonly leadQualifiedStatus?: string;
  /** Lead status written by disqualify_lead; default "Unqualified". */
  readonly leadDisqualifiedStatus?: string;
  /** Case status written by close_case; default "Closed". */
  readonly caseClosedStatus?: string;
  /**
   * Called with the new refresh token when the connected app rotates refresh tokens (the token
   * response carries a new one and the old one stops working): persist it, or the next restart
   * fails with auth-expired.
   */
  readonly onRefreshTokenRotated?: (refreshToken: string) => void | Promise<void>;
}

/** Defaults applied by the adapter to optional settings. */
export const SALESFORCE_DEFAULTS = {
  loginUrl: 'https://login.salesforce.com',
  apiVersion: '62.0',
  requestTimeoutMs: 30_000,
  rateLimitRetryAfterMs: 60_000,
  pollLagSeconds: 30,
  minorUnitDigits: 2,
  leadQualifiedStatus: 'Qualified',
  leadDisqualifiedStatus: 'Unqualified',
  caseClosedStatus: 'Closed',
} as const;

/** A configuration that cannot work; the message lists every problem by key, never a value. */
export class SalesforceConfigError extends Error {
  override readonly name = 'SalesforceConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid Salesforce configuration: ${problems.join('; ')}`);
  }
}

/** Environment variables `parseSalesforceConfig` reads, per config key. */
export const SALESFORCE_ENV_KEYS = {
  tenantId: 'SALESFORCE_TENANT_ID',
  loginUrl: 'SALESFORCE_LOGIN_URL',
  instanceUrl: 'SALESFORCE_INSTANCE_URL',
  clientId: 'SALESFORCE_CLIENT_ID',
  clientSecret: 'SALESFORCE_CLIENT_SECRET',
  refreshToken: 'SALESFORCE_REFRESH_TOKEN',
  accessToken: 'SALESFORCE_ACCESS_TOKEN',
  apiVersion: 'SALESFORCE_API_VERSION',
  fieldMapping: 'SALESFORCE_FIELD_MAPPING',
  requestTimeoutMs: 'SALESFORCE_REQUEST_TIMEOUT_MS',
  rateLimitRetryAfterMs: 'SALESFORCE_RATE_LIMIT_RETRY_AFTER_MS',
  pollLagSeconds: 'SALESFORCE_POLL_LAG_SECONDS',
  minorUnitDigits: 'SALESFORCE_MINOR_UNIT_DIGITS',
  leadQualifiedStatus: 'SALESFORCE_LEAD_QUALIFIED_STATUS',
  leadDisqualifiedStatus: 'SALESFORCE_LEAD_DISQUALIFIED_STATUS',
  caseClosedStatus: 'SALESFORCE_CASE_CLOSED_STATUS',
} as const satisfies Partial<Record<keyof SalesforceConfig, string>>;

type EnvKey = keyof typeof SALESFORCE_ENV_KEYS;
type Namer = (key: EnvKey) => string;

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

function urlProblem(value: unknown, name: string, instance: boolean): string | undefined {
  if (typeof value !== 'string' || !value.trim()) return `${name} is required`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${name} must be an absolute URL`;
  }
  // Plain http only for a local test double; a real org is always https.
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))
    return `${name} must be an https URL`;
  if (url.username || url.password) return `${name} must not carry credentials`;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    return `${name} must be a bare origin (no path, query or fragment)`;
  if (instance && url.hostname.endsWith('.lightning.force.com'))
    return `${name} must be the My Domain (my.salesforce.com) URL, not a Lightning URL`;
  return undefined;
}

function positive(value: unknown, name: string, allowZero = false): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1))
    return `${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer`;
  return undefined;
}

/** Field mapping overlay problems: the SDK's checks plus names safe to put into SOQL and URLs. */
export function mappingOverlayProblems(overlay: unknown, name: string): string[] {
  const problems = fieldMappingProblems(overlay).map((p) => `${name}: ${p}`);
  if (problems.length) return problems;
  for (const [objectType, m] of Object.entries(overlay as FieldMappingConfig)) {
    if (!IDENTIFIER.test(m.crmObject))
      problems.push(`${name}: "${objectType}.crmObject" must be a Salesforce API name`);
    for (const [field, crm] of Object.entries(m.fields))
      if (!IDENTIFIER.test(crm))
        problems.push(
          `${name}: "${objectType}.fields.${field}" must be a Salesforce field API name`,
        );
  }
  return problems;
}

function problemsOf(c: Partial<Record<keyof SalesforceConfig, unknown>>, n: Namer): string[] {
  const problems: string[] = [];
  const push = (p: string | undefined) => p && problems.push(p);
  for (const key of ['tenantId', 'clientId', 'clientSecret', 'refreshToken'] as const)
    if (typeof c[key] !== 'string' || !(c[key] as string).trim())
      problems.push(`${n(key)} is required`);
  push(urlProblem(c.loginUrl, n('loginUrl'), false));
  push(urlProblem(c.instanceUrl, n('instanceUrl'), true));
  if (c.accessToken !== undefined && (typeof c.accessToken !== 'string' || !c.accessToken))
    problems.push(`${n('accessToken')} must be a non-empty string when set`);
  if (
    c.apiVersion !== undefined &&
    (typeof c.apiVersion !== 'string' || !/^[1-9]\d{1,2}\.0$/.test(c.apiVersion))
  )
    problems.push(`${n('apiVersion')} must look like "62.0"`);
  push(positive(c.requestTimeoutMs, n('requestTimeoutMs')));
  push(positive(c.rateLimitRetryAfterMs, n('rateLimitRetryAfterMs')));
  push(positive(c.pollLagSeconds, n('pollLagSeconds'), true));
  if (
    c.minorUnitDigits !== undefined &&
    !(
      Number.isInteger(c.minorUnitDigits) &&
      (c.minorUnitDigits as number) >= 0 &&
      (c.minorUnitDigits as number) <= 4
    )
  )
    problems.push(`${n('minorUnitDigits')} must be an integer from 0 to 4`);
  for (const key of ['leadQualifiedStatus', 'leadDisqualifiedStatus', 'caseClosedStatus'] as const)
    if (c[key] !== undefined && (typeof c[key] !== 'string' || !(c[key] as string).trim()))
      problems.push(`${n(key)} must be a non-empty string when set`);
  if (c.fieldMapping !== undefined)
    problems.push(...mappingOverlayProblems(c.fieldMapping, n('fieldMapping')));
  if (c.onRefreshTokenRotated !== undefined && typeof c.onRefreshTokenRotated !== 'function')
    problems.push('onRefreshTokenRotated must be a function');
  return problems;
}

/** Problems with a config object (by its property names); empty when usable. */
export function salesforceConfigProblems(config: SalesforceConfig): string[] {
  return problemsOf(config, (k) => k);
}

/**
 * A SalesforceConfig from environment-style settings (`SALESFORCE_*`, see SALESFORCE_ENV_KEYS),
 * e.g. `parseSalesforceConfig(process.env)`. Throws SalesforceConfigError naming every bad key;
 * values are never echoed (several are secrets).
 */
export function parseSalesforceConfig(
  env: Readonly<Record<string, string | undefined>>,
): SalesforceConfig {
  const n: Namer = (k) => SALESFORCE_ENV_KEYS[k];
  const get = (k: EnvKey): string | undefined => {
    const v = env[SALESFORCE_ENV_KEYS[k]];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };
  const problems: string[] = [];
  const int = (k: EnvKey): number | undefined => {
    const v = get(k);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) {
      problems.push(`${n(k)} must be an integer`);
      return undefined;
    }
    return Number(v);
  };
  let fieldMapping: FieldMappingConfig | undefined;
  const mappingJson = get('fieldMapping');
  if (mappingJson !== undefined) {
    try {
      fieldMapping = JSON.parse(mappingJson) as FieldMappingConfig;
    } catch {
      problems.push(`${n('fieldMapping')} is not valid JSON`);
    }
  }
  const config = {
    tenantId: get('tenantId') ?? '',
    loginUrl: (get('loginUrl') ?? SALESFORCE_DEFAULTS.loginUrl).replace(/\/+$/, ''),
    instanceUrl: (get('instanceUrl') ?? '').replace(/\/+$/, ''),
    clientId: get('clientId') ?? '',
    clientSecret: get('clientSecret') ?? '',
    refreshToken: get('refreshToken') ?? '',
    accessToken: get('accessToken'),
    apiVersion: get('apiVersion'),
    fieldMapping,
    requestTimeoutMs: int('requestTimeoutMs'),
    rateLimitRetryAfterMs: int('rateLimitRetryAfterMs'),
    pollLagSeconds: int('pollLagSeconds'),
    minorUnitDigits: int('minorUnitDigits'),
    leadQualifiedStatus: get('leadQualifiedStatus'),
    leadDisqualifiedStatus: get('leadDisqualifiedStatus'),
    caseClosedStatus: get('caseClosedStatus'),
  };
  problems.push(...problemsOf(config, n));
  if (problems.length) throw new SalesforceConfigError(problems);
  // Drop unset optional keys so defaults apply.
  return Object.fromEntries(
    Object.entries(config).filter(([, v]) => v !== undefined),
  ) as unknown as SalesforceConfig;
}
