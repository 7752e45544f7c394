import { CRM_ACTION_TYPES } from '@mandate/contracts';
import {
  ConnectorError,
  FieldMapping,
  type Classification,
  type ConnectorCapabilities,
  type FieldMappingConfig,
  type FieldSpec,
  type ObjectSpec,
} from '@mandate/connector-sdk';

/**
 * Canonical objects → HubSpot CRM v3 objects, canonical fields → HubSpot properties.
 *
 * - `lead` and `contact` are both HubSpot **contacts**: a lead is a contact whose
 *   `lifecyclestage` is `lead` (the v3 `leads` object needs Sales Hub Professional and an
 *   associated contact, so it is not the default). The SDK's mapping refuses two canonical
 *   objects on one CRM object name, so `contact` uses HubSpot's object type id `0-1`, which the
 *   adapter normalises back to `contacts` before calling the API.
 * - `account` → companies, `opportunity` → deals, `case` → tickets.
 * - `mandate_*` properties are custom properties the tenant provisions (README).
 */
export const DEFAULT_HUBSPOT_MAPPING: FieldMappingConfig = {
  lead: {
    crmObject: 'contacts',
    fields: {
      email: 'email',
      company: 'company',
      title: 'jobtitle',
      industry: 'industry',
      source: 'hs_analytics_source',
      country: 'country',
      status: 'hs_lead_status',
      score: 'mandate_lead_score',
      ownerId: 'hubspot_owner_id',
      emailConsent: 'mandate_email_consent',
      optedOut: 'hs_email_optout',
      lifecycleStage: 'lifecyclestage',
    },
  },
  contact: {
    crmObject: '0-1',
    fields: {
      email: 'email',
      title: 'jobtitle',
      industry: 'industry',
      country: 'country',
      status: 'hs_lead_status',
      ownerId: 'hubspot_owner_id',
      emailConsent: 'mandate_email_consent',
      optedOut: 'hs_email_optout',
      lifecycleStage: 'lifecyclestage',
    },
  },
  account: {
    crmObject: 'companies',
    fields: {
      name: 'name',
      domain: 'domain',
      industry: 'industry',
      country: 'country',
      employees: 'numberofemployees',
      ownerId: 'hubspot_owner_id',
    },
  },
  opportunity: {
    crmObject: 'deals',
    fields: {
      name: 'dealname',
      stage: 'dealstage',
      pipeline: 'pipeline',
      amountMinor: 'amount',
      currencyCode: 'deal_currency_code',
      ownerId: 'hubspot_owner_id',
      discountPercent: 'mandate_discount_percent',
      closeDate: 'closedate',
    },
  },
  case: {
    crmObject: 'tickets',
    fields: {
      subject: 'subject',
      description: 'content',
      status: 'hs_pipeline_stage',
      priority: 'hs_ticket_priority',
      ownerId: 'hubspot_owner_id',
      resolutionCode: 'mandate_resolution_code',
    },
  },
};

/** HubSpot object type ids the mapping may use as aliases, → the API's object names. */
const OBJECT_TYPE_IDS: Readonly<Record<string, string>> = {
  '0-1': 'contacts',
  '0-2': 'companies',
  '0-3': 'deals',
  '0-5': 'tickets',
  '0-27': 'tasks',
  '0-46': 'notes',
  '0-49': 'emails',
};

/** The HubSpot API object name for a mapped CRM object (`0-1` → `contacts`). */
export function apiObjectName(crmObject: string): string {
  return OBJECT_TYPE_IDS[crmObject] ?? crmObject;
}

/** The webhook object name (`contact`, `company`, `deal`, `ticket`) of an API object name. */
export function webhookObjectName(apiObject: string): string | undefined {
  return (
    { contacts: 'contact', companies: 'company', deals: 'deal', tickets: 'ticket' } as Record<
      string,
      string
    >
  )[apiObject];
}

/** Properties the adapter writes for its own bookkeeping (idempotency). */
export const IDEMPOTENCY_KEY_PROPERTY = 'mandate_idempotency_key';
export const LAST_ACTION_KEY_PROPERTY = 'mandate_last_action_key';
export const RECENT_ACTION_KEYS_PROPERTY = 'mandate_recent_action_keys';
/** How many applied keys a record remembers in `mandate_recent_action_keys`. */
export const RECENT_ACTION_KEYS_KEPT = 20;

/** How a canonical value is stored in HubSpot (every HubSpot property value is a string). */
export type ValueKind =
  | 'string'
  | 'number'
  | 'boolean'
  /** Minor units ↔ `amount` in major units, digits by the record's currency. */
  | 'money-minor'
  /** Read from the v4 associations API (deal/contact → company), not a property. */
  | 'company-association'
  /** firstname + lastname. */
  | 'full-name';

export interface HubSpotFieldSpec extends FieldSpec {
  readonly kind?: ValueKind;
}

const f = (
  name: string,
  classification: Classification,
  writable = false,
  kind: ValueKind = 'string',
): HubSpotFieldSpec => ({ name, classification, writable, kind });

/** Canonical fields, their classification, whether actions may write them, how they convert. */
export const HUBSPOT_FIELD_SPECS: Readonly<Record<string, readonly HubSpotFieldSpec[]>> = {
  lead: [
    f('name', 'personal', false, 'full-name'),
    f('email', 'personal'),
    f('company', 'internal', true),
    f('title', 'internal', true),
    f('industry', 'public', true),
    f('source', 'internal'),
    f('country', 'internal', true),
    f('status', 'internal', true),
    f('score', 'internal', true, 'number'),
    f('ownerId', 'internal', true),
    f('emailConsent', 'personal', false, 'boolean'),
    f('optedOut', 'personal', false, 'boolean'),
    // Written by qualify_lead only: HubSpot moves lifecycle stages forward only (README).
    f('lifecycleStage', 'internal'),
  ],
  contact: [
    f('name', 'personal', false, 'full-name'),
    f('email', 'personal'),
    f('title', 'internal', true),
    f('industry', 'public', true),
    f('country', 'internal', true),
    f('status', 'internal', true),
    f('ownerId', 'internal', true),
    f('emailConsent', 'personal', false, 'boolean'),
    f('optedOut', 'personal', false, 'boolean'),
    f('lifecycleStage', 'internal'),
    f('accountId', 'internal', false, 'company-association'),
  ],
  account: [
    f('name', 'internal', true),
    f('domain', 'public', true),
    f('industry', 'public', true),
    f('country', 'public', true),
    f('employees', 'public', true, 'number'),
    f('ownerId', 'internal', true),
  ],
  opportunity: [
    f('name', 'internal', true),
    f('stage', 'internal', true),
    f('pipeline', 'internal'),
    f('amountMinor', 'confidential', true, 'money-minor'),
    f('currencyCode', 'internal'),
    f('ownerId', 'internal', true),
    f('discountPercent', 'confidential', true, 'number'),
    f('closeDate', 'internal', true),
    f('accountId', 'internal', false, 'company-association'),
  ],
  case: [
    f('subject', 'internal', true),
    f('description', 'confidential', true),
    f('status', 'internal', true),
    f('priority', 'internal', true),
    f('ownerId', 'internal', true),
    f('resolutionCode', 'internal', true),
  ],
};

/**
 * The field mapping and the field specs together: canonical names ↔ HubSpot properties, and
 * value conversion both ways. Fields a tenant's overlay adds without a spec are exposed as
 * `confidential`, read-only.
 */
export class HubSpotSchema {
  readonly mapping: FieldMapping;
  private readonly specs = new Map<string, Map<string, HubSpotFieldSpec>>();

  constructor(readonly config: FieldMappingConfig) {
    this.mapping = new FieldMapping(config);
    for (const objectType of this.mapping.objectTypes()) {
      const byName = new Map<string, HubSpotFieldSpec>();
      const mapped = new Set(Object.keys(config[objectType]?.fields ?? {}));
      for (const spec of HUBSPOT_FIELD_SPECS[objectType] ?? []) {
        // Derived fields exist unless the overlay maps the name to a property of its own.
        const derived = spec.kind === 'full-name' || spec.kind === 'company-association';
        if (mapped.has(spec.name))
          byName.set(spec.name, derived ? { ...spec, kind: 'string' } : spec);
        else if (derived) byName.set(spec.name, spec);
      }
      for (const name of mapped)
        if (!byName.has(name)) byName.set(name, f(name, 'confidential', false));
      this.specs.set(objectType, byName);
    }
  }

  objectTypes(): string[] {
    return this.mapping.objectTypes();
  }

  /** The API object name (`contacts`, `deals`, ...) of a canonical object type. */
  apiObject(objectType: string): string {
    return apiObjectName(this.mapping.crmObject(objectType));
  }

  objectSpecs(): ObjectSpec[] {
    return [...this.specs.entries()].map(([objectType, fields]) => ({
      objectType,
      fields: [...fields.values()].map(({ name, classification, writable }) => ({
        name,
        classification,
        writable,
      })),
    }));
  }

  /** The spec of a canonical field; a permanent UNMAPPED_FIELD error when there is none. */
  field(objectType: string, field: string): HubSpotFieldSpec {
    const spec = this.specs.get(objectType)?.get(field);
    if (!spec) {
      this.mapping.crmObject(objectType); // UNMAPPED_OBJECT when the object is the problem
      throw ConnectorError.permanent(
        'UNMAPPED_FIELD',
        `field "${objectType}.${field}" is not mapped to a HubSpot property`,
      );
    }
    return spec;
  }

  fields(objectType: string): HubSpotFieldSpec[] {
    this.mapping.crmObject(objectType);
    return [...(this.specs.get(objectType)?.values() ?? [])];
  }

  /** The HubSpot properties needed to read these canonical fields (associations excluded). */
  propertiesFor(objectType: string, fields: readonly string[]): string[] {
    const props = new Set<string>();
    for (const name of fields) {
      const spec = this.field(objectType, name);
      if (spec.kind === 'company-association') continue;
      if (spec.kind === 'full-name') {
        props.add('firstname');
        props.add('lastname');
        continue;
      }
      props.add(this.mapping.crmField(objectType, name));
      if (spec.kind === 'money-minor') {
        const currency = this.currencyProperty(objectType);
        if (currency) props.add(currency);
      }
    }
    return [...props];
  }

  private currencyProperty(objectType: string): string | undefined {
    return this.specs.get(objectType)?.has('currencyCode')
      ? this.mapping.crmField(objectType, 'currencyCode')
      : undefined;
  }

  /**
   * HubSpot properties → canonical fields (only those asked for, when `only` is given). Unset
   * and empty values are left out (HubSpot clears a property by setting it to "").
   */
  fromHubSpot(
    objectType: string,
    properties: Readonly<Record<string, string | null | undefined>>,
    only?: readonly string[],
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    const currencyProp = this.currencyProperty(objectType);
    const currency = currencyProp ? (properties[currencyProp] ?? undefined) : undefined;
    for (const spec of this.specs.get(objectType)?.values() ?? []) {
      if (only && !only.includes(spec.name)) continue;
      let value: unknown;
      if (spec.kind === 'company-association') continue;
      if (spec.kind === 'full-name') {
        const parts = [properties['firstname'], properties['lastname']].filter(
          (p): p is string => typeof p === 'string' && p.length > 0,
        );
        value = parts.length ? parts.join(' ') : undefined;
      } else {
        const raw = properties[this.mapping.crmField(objectType, spec.name)];
        if (raw === null || raw === undefined || raw === '') continue;
        value = fromHubSpotValue(spec.kind ?? 'string', raw, currency);
      }
      if (value !== undefined) out[spec.name] = value;
    }
    return out;
  }

  /**
   * Canonical fields → HubSpot properties, for writes and seeding. `null` clears a property.
   * `context.currencyCode` sets the digits of `amountMinor` when the fields do not carry one.
   */
  toHubSpot(
    objectType: string,
    fields: Readonly<Record<string, unknown>>,
    context: { currencyCode?: string } = {},
  ): Record<string, string> {
    const out: Record<string, string> = {};
    const currency =
      typeof fields['currencyCode'] === 'string' ? fields['currencyCode'] : context.currencyCode;
    for (const [name, value] of Object.entries(fields)) {
      const spec = this.field(objectType, name);
      if (spec.kind === 'company-association')
        throw ConnectorError.permanent(
          'FIELD_NOT_WRITABLE',
          `field "${objectType}.${name}" is an association, not a property`,
        );
      if (spec.kind === 'full-name') {
        const full = value === null || value === undefined ? '' : String(value);
        const i = full.indexOf(' ');
        out['firstname'] = i < 0 ? full : full.slice(0, i);
        out['lastname'] = i < 0 ? '' : full.slice(i + 1);
        continue;
      }
      out[this.mapping.crmField(objectType, name)] =
        value === null || value === undefined
          ? ''
          : toHubSpotValue(spec.kind ?? 'string', value, currency, `${objectType}.${name}`);
    }
    return out;
  }
}

/** Fraction digits of an ISO 4217 currency (2 when unknown or absent). */
export function currencyDigits(code: string | undefined): number {
  if (!code || !/^[A-Z]{3}$/.test(code)) return 2;
  return (
    new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
      .maximumFractionDigits ?? 2
  );
}

/** "1234.5" (major units) → 123450 (minor units), rounding half away from zero; undefined if not a number. */
export function majorToMinor(major: string, digits: number): number | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(major.trim());
  if (!m) return undefined;
  const [, sign, whole, frac = ''] = m;
  const kept = (frac + '0'.repeat(digits)).slice(0, digits);
  let minor = BigInt(whole + kept);
  if (frac.length > digits && Number(frac[digits]) >= 5) minor += 1n;
  const n = Number(minor);
  return sign === '-' ? -n : n;
}

/** 123450 (minor units) → "1234.50" (major units). */
export function minorToMajor(minor: number | bigint, digits: number): string {
  const v = BigInt(minor);
  const neg = v < 0n;
  const abs = (neg ? -v : v).toString().padStart(digits + 1, '0');
  const whole = abs.slice(0, abs.length - digits);
  const frac = abs.slice(abs.length - digits);
  return `${neg ? '-' : ''}${whole}${digits > 0 ? `.${frac}` : ''}`;
}

function fromHubSpotValue(kind: ValueKind, raw: string, currency: string | undefined): unknown {
  switch (kind) {
    case 'number': {
      const n = Number(raw);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'money-minor':
      return majorToMinor(raw, currencyDigits(currency ?? undefined));
    default:
      return raw;
  }
}

function invalid(what: string, expected: string): ConnectorError {
  return ConnectorError.permanent('INVALID_VALUE', `value for "${what}" must be ${expected}`);
}

function toHubSpotValue(
  kind: ValueKind,
  value: unknown,
  currency: string | undefined,
  what: string,
): string {
  switch (kind) {
    case 'number': {
      const n = typeof value === 'number' ? value : Number(String(value).trim());
      if (String(value).trim() === '' || !Number.isFinite(n)) throw invalid(what, 'a number');
      return String(n);
    }
    case 'boolean': {
      const s = String(value);
      if (s !== 'true' && s !== 'false') throw invalid(what, '"true" or "false"');
      return s;
    }
    case 'money-minor': {
      const s = typeof value === 'number' ? String(value) : String(value).trim();
      if (!/^-?\d+$/.test(s)) throw invalid(what, 'an integer amount in minor units');
      return minorToMajor(BigInt(s), currencyDigits(currency));
    }
    default:
      return String(value);
  }
}

/**
 * A canonical value rendered as the actions render values (numbers in decimal, booleans
 * "true"/"false", absent as ""), for `previous_value` / `from_stage` comparisons.
 */
export function renderCanonical(value: unknown): string {
  if (value === null || value === undefined) return '';
  return String(value);
}

/** True when a canonical value equals an action's rendering of it (numbers compared as numbers). */
export function sameCanonical(
  kind: ValueKind | undefined,
  value: unknown,
  rendered: string,
): boolean {
  if (kind === 'number' || kind === 'money-minor') {
    if (value === undefined || value === null) return rendered.trim() === '';
    return rendered.trim() !== '' && Number(rendered) === Number(value);
  }
  return renderCanonical(value) === rendered;
}

/** Every CRM action type: the adapter executes all of them. */
export const HUBSPOT_ACTIONS: readonly string[] = CRM_ACTION_TYPES;

/** The field-setting actions: `compensate` writes the previous values back. */
export const HUBSPOT_REVERSIBLE_ACTIONS = [
  'update_field',
  'qualify_lead',
  'disqualify_lead',
  'assign_owner',
  'apply_discount',
  'move_opportunity_stage',
  'close_case',
] as const;

/**
 * What the adapter declares.
 * - rate limit: HubSpot counts requests per account in a rolling 10-second window (100 per 10 s
 *   for private apps on Free/Starter, 110 per 10 s per account for OAuth apps, more on higher
 *   tiers and with the API limit increase) plus a daily quota; 10 requests/s with a burst of 10
 *   stays inside the smallest window. https://developers.hubspot.com/docs/api/usage-details
 * - CRM-side idempotency: created objects carry the key in the unique-value property
 *   `mandate_idempotency_key` (HubSpot refuses a second object with the same value); record
 *   updates write the key in the same PATCH as the change (`mandate_last_action_key`,
 *   `mandate_recent_action_keys`) and a retry that finds it there is `already-applied`.
 */
export function hubspotCapabilities(schema: HubSpotSchema): ConnectorCapabilities {
  return {
    connector: 'hubspot',
    objects: schema.objectSpecs(),
    actions: [...HUBSPOT_ACTIONS],
    reversibleActions: [...HUBSPOT_REVERSIBLE_ACTIONS],
    changeFeed: 'webhook',
    crmSideIdempotency: true,
    rateLimit: { requestsPerSecond: 10, burst: 10 },
  };
}
