import {
  fieldMappingProblems,
  mergeFieldMappings,
  type FieldMappingConfig,
} from '@mandate/connector-sdk';
import { DEFAULT_HUBSPOT_MAPPING } from './hubspot.mapping';

/** OAuth app credentials: the adapter refreshes the access token with them. */
export interface HubSpotOAuthConfig {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly refreshToken: string;
}

/** Tokens after a refresh, for callers that persist them (HubSpot keeps the refresh token). */
export interface HubSpotTokens {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresAt: Date;
}

export interface HubSpotConfig {
  /** Mandate tenant this adapter instance serves. */
  readonly tenantId: string;
  /** HubSpot account (portal / hub) id; webhook events of other portals are refused. */
  readonly portalId: string;
  /** API base URL; default https://api.hubapi.com (tests point it at the fake). */
  readonly basePath?: string;
  /**
   * A private-app access token (never refreshed), or the current OAuth access token (optional
   * with `oauth`: the adapter then refreshes before its first call).
   */
  readonly accessToken?: string;
  /** OAuth app credentials and refresh token; absent for private apps. */
  readonly oauth?: HubSpotOAuthConfig;
  /** The app's client secret, used by HubSpot to sign webhook calls (signature v3). */
  readonly webhookClientSecret: string;
  /** Tenant overlay on the default field mapping (per object, per field). */
  readonly fieldMapping?: FieldMappingConfig;
  /** Canonical type of contact webhook events: `lead` (default) or `contact`. */
  readonly contactChangeObjectType?: 'lead' | 'contact';
  /** Ticket pipeline stage id `close_case` moves to; default "4" (Closed, default pipeline). */
  readonly ticketClosedStageId?: string;
  /** Oldest accepted webhook timestamp, ms; default 5 minutes (HubSpot's recommendation). */
  readonly webhookMaxAgeMs?: number;
  /** Called with new tokens after a refresh (to persist them); never logged by the adapter. */
  readonly onTokensRefreshed?: (tokens: HubSpotTokens) => void | Promise<void>;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

export const DEFAULT_HUBSPOT_BASE_PATH = 'https://api.hubapi.com';

/** A configuration problem; the message names the key, never a value. */
export class HubSpotConfigError extends Error {
  override readonly name = 'HubSpotConfigError';
}

const KNOWN_KEYS = new Set([
  'tenantId',
  'portalId',
  'basePath',
  'accessToken',
  'oauth',
  'webhookClientSecret',
  'fieldMapping',
  'contactChangeObjectType',
  'ticketClosedStageId',
  'webhookMaxAgeMs',
  'onTokensRefreshed',
  'now',
]);

function nonEmpty(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0;
}

/**
 * Validates a configuration (from JSON or code) and fills in defaults. Every problem is
 * reported at once, by key; secret values never appear in the message.
 */
export function parseHubSpotConfig(raw: unknown): HubSpotConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new HubSpotConfigError('hubspot config must be an object');
  const c = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(c))
    if (!KNOWN_KEYS.has(key)) problems.push(`"${key}" is not a known key`);
  if (!nonEmpty(c['tenantId'])) problems.push('"tenantId" must be a non-empty string');
  if (typeof c['portalId'] !== 'string' || !/^\d+$/.test(c['portalId']))
    problems.push('"portalId" must be the HubSpot account id, a string of digits');
  let basePath = DEFAULT_HUBSPOT_BASE_PATH;
  if (c['basePath'] !== undefined) {
    const ok =
      typeof c['basePath'] === 'string' &&
      /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(c['basePath']);
    if (!ok) problems.push('"basePath" must be an http(s) URL without query or fragment');
    else basePath = (c['basePath'] as string).replace(/\/+$/, '');
  }
  if (c['accessToken'] !== undefined && !nonEmpty(c['accessToken']))
    problems.push('"accessToken" must be a non-empty string when given');
  let oauth: HubSpotOAuthConfig | undefined;
  if (c['oauth'] !== undefined) {
    const o = c['oauth'] as Record<string, unknown> | null;
    if (typeof o !== 'object' || o === null || Array.isArray(o))
      problems.push('"oauth" must be an object {clientId, clientSecret, refreshToken}');
    else {
      for (const k of ['clientId', 'clientSecret', 'refreshToken'])
        if (!nonEmpty(o[k])) problems.push(`"oauth.${k}" must be a non-empty string`);
      for (const k of Object.keys(o))
        if (!['clientId', 'clientSecret', 'refreshToken'].includes(k))
          problems.push(`"oauth.${k}" is not a known key`);
      oauth = {
        clientId: o['clientId'] as string,
        clientSecret: o['clientSecret'] as string,
        refreshToken: o['refreshToken'] as string,
      };
    }
  }
  if (c['accessToken'] === undefined && c['oauth'] === undefined)
    problems.push('either "accessToken" (private app) or "oauth" (OAuth app) is required');
  if (!nonEmpty(c['webhookClientSecret']))
    problems.push('"webhookClientSecret" must be a non-empty string');
  if (
    c['contactChangeObjectType'] !== undefined &&
    c['contactChangeObjectType'] !== 'lead' &&
    c['contactChangeObjectType'] !== 'contact'
  )
    problems.push('"contactChangeObjectType" must be "lead" or "contact"');
  if (c['ticketClosedStageId'] !== undefined && !nonEmpty(c['ticketClosedStageId']))
    problems.push('"ticketClosedStageId" must be a non-empty string');
  if (
    c['webhookMaxAgeMs'] !== undefined &&
    !(typeof c['webhookMaxAgeMs'] === 'number' && c['webhookMaxAgeMs'] > 0)
  )
    problems.push('"webhookMaxAgeMs" must be a positive number');
  if (c['onTokensRefreshed'] !== undefined && typeof c['onTokensRefreshed'] !== 'function')
    problems.push('"onTokensRefreshed" must be a function');
  if (c['now'] !== undefined && typeof c['now'] !== 'function')
    problems.push('"now" must be a function');
  if (c['fieldMapping'] !== undefined) {
    const overlayProblems = fieldMappingOverlayProblems(c['fieldMapping']);
    if (overlayProblems.length) problems.push(...overlayProblems);
    else
      problems.push(
        ...fieldMappingProblems(
          mergeFieldMappings(DEFAULT_HUBSPOT_MAPPING, c['fieldMapping'] as FieldMappingConfig),
        ).map((p) => `"fieldMapping": ${p}`),
      );
  }
  if (problems.length)
    throw new HubSpotConfigError(`invalid hubspot config: ${problems.join('; ')}`);
  return {
    ...(c as unknown as HubSpotConfig),
    basePath,
    oauth,
  };
}

/** An overlay may leave out `crmObject` (kept from the default) but must be well formed. */
function fieldMappingOverlayProblems(overlay: unknown): string[] {
  if (typeof overlay !== 'object' || overlay === null || Array.isArray(overlay))
    return ['"fieldMapping" must be an object of {objectType: {crmObject?, fields}}'];
  const problems: string[] = [];
  for (const [objectType, m] of Object.entries(overlay as Record<string, unknown>)) {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) {
      problems.push(`"fieldMapping.${objectType}" must be an object`);
      continue;
    }
    const entry = m as Record<string, unknown>;
    if (entry['crmObject'] === undefined && !DEFAULT_HUBSPOT_MAPPING[objectType])
      problems.push(`"fieldMapping.${objectType}.crmObject" is required for a new object`);
    if (
      entry['fields'] !== undefined &&
      (typeof entry['fields'] !== 'object' || entry['fields'] === null)
    )
      problems.push(`"fieldMapping.${objectType}.fields" must be an object`);
  }
  return problems;
}

/** The default mapping with the tenant's overlay. */
export function effectiveFieldMapping(config: HubSpotConfig): FieldMappingConfig {
  return mergeFieldMappings(DEFAULT_HUBSPOT_MAPPING, config.fieldMapping);
}
