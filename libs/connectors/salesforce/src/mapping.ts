import { CRM_ACTION_TYPES } from '@mandate/contracts';
import {
  ConnectorError,
  FieldMapping,
  mergeFieldMappings,
  type Classification,
  type ConnectorCapabilities,
  type FieldMappingConfig,
  type ObjectSpec,
} from '@mandate/connector-sdk';

/**
 * The default canonical → Salesforce mapping. Standard fields where Salesforce has one; custom
 * fields (`__c`) the org must create where it has none (README, "Org setup"). A tenant overlays
 * its own names with `fieldMapping` (e.g. `{"lead": {"crmObject": "Lead", "fields": {"score":
 * "MyScore__c"}}}`).
 *
 * - lead.name → Name: the read-only compound of FirstName/LastName (readable, not writable).
 * - optedOut → HasOptedOutOfEmail (standard); emailConsent → Email_Consent__c (custom checkbox:
 *   consent is not the absence of an opt-out, so it is not derived from HasOptedOutOfEmail).
 * - opportunity.amountMinor → Amount, converted: Salesforce stores major units (12500.00),
 *   Mandate minor units (1250000) — see `minorUnitDigits`.
 * - opportunity.currencyCode is not mapped by default: CurrencyIsoCode exists only in
 *   multi-currency orgs; those add `"currencyCode": "CurrencyIsoCode"`.
 */
export const DEFAULT_SALESFORCE_MAPPING: FieldMappingConfig = {
  lead: {
    crmObject: 'Lead',
    fields: {
      name: 'Name',
      email: 'Email',
      company: 'Company',
      title: 'Title',
      employees: 'NumberOfEmployees',
      industry: 'Industry',
      source: 'LeadSource',
      country: 'Country',
      notes: 'Description',
      status: 'Status',
      score: 'Lead_Score__c',
      ownerId: 'OwnerId',
      emailConsent: 'Email_Consent__c',
      optedOut: 'HasOptedOutOfEmail',
      qualificationReason: 'Qualification_Reason__c',
      disqualificationCode: 'Disqualification_Code__c',
    },
  },
  contact: {
    crmObject: 'Contact',
    fields: {
      name: 'Name',
      email: 'Email',
      title: 'Title',
      accountId: 'AccountId',
      country: 'MailingCountry',
      source: 'LeadSource',
      ownerId: 'OwnerId',
      emailConsent: 'Email_Consent__c',
      optedOut: 'HasOptedOutOfEmail',
    },
  },
  account: {
    crmObject: 'Account',
    fields: {
      name: 'Name',
      industry: 'Industry',
      employees: 'NumberOfEmployees',
      country: 'BillingCountry',
      ownerId: 'OwnerId',
    },
  },
  opportunity: {
    crmObject: 'Opportunity',
    fields: {
      name: 'Name',
      accountId: 'AccountId',
      stage: 'StageName',
      amountMinor: 'Amount',
      ownerId: 'OwnerId',
      discountPercent: 'Discount_Percent__c',
    },
  },
  case: {
    crmObject: 'Case',
    fields: {
      subject: 'Subject',
      description: 'Description',
      status: 'Status',
      priority: 'Priority',
      ownerId: 'OwnerId',
      accountId: 'AccountId',
      resolutionCode: 'Resolution_Code__c',
    },
  },
};

/** How a canonical value is typed, for parsing `update_field` strings and converting. */
export type ValueKind = 'string' | 'number' | 'boolean' | 'minor-units' | 'date' | 'datetime';

export interface CanonicalFieldSpec {
  readonly classification: Classification;
  /** Agents' actions may write it. */
  readonly writable?: boolean;
  readonly kind?: ValueKind;
  /**
   * False for fields SOQL cannot filter or order by (long text areas such as Description): `find`
   * refuses them with FIELD_NOT_FILTERABLE / FIELD_NOT_SORTABLE instead of sending a query the
   * org would reject.
   */
  readonly queryable?: false;
}

const F = (
  classification: Classification,
  writable = false,
  kind: ValueKind = 'string',
): CanonicalFieldSpec => ({ classification, writable, kind });

/**
 * Classification, writability and type of the canonical fields this adapter knows. A field a
 * tenant maps that is not listed here is declared `confidential`, read-only, string-typed.
 */
export const CANONICAL_FIELDS: Readonly<
  Record<string, Readonly<Record<string, CanonicalFieldSpec>>>
> = {
  lead: {
    name: F('personal'),
    email: F('personal'),
    company: F('internal', true),
    title: F('internal', true),
    employees: F('public', true, 'number'),
    industry: F('public', true),
    source: F('internal', true),
    country: F('internal', true),
    notes: { ...F('confidential', true), queryable: false },
    status: F('internal', true),
    score: F('internal', true, 'number'),
    ownerId: F('internal', true),
    emailConsent: F('personal', false, 'boolean'),
    optedOut: F('personal', false, 'boolean'),
    qualificationReason: F('internal', true),
    disqualificationCode: F('internal', true),
  },
  contact: {
    name: F('personal'),
    email: F('personal'),
    title: F('internal', true),
    accountId: F('internal'),
    country: F('internal', true),
    source: F('internal', true),
    ownerId: F('internal', true),
    status: F('internal', true),
    industry: F('public', true),
    emailConsent: F('personal', false, 'boolean'),
    optedOut: F('personal', false, 'boolean'),
  },
  account: {
    name: F('internal'),
    industry: F('public', true),
    employees: F('public', true, 'number'),
    country: F('internal', true),
    ownerId: F('internal', true),
    customerTier: F('internal', true),
    status: F('internal', true),
  },
  opportunity: {
    name: F('internal'),
    accountId: F('internal'),
    stage: F('internal', true),
    amountMinor: F('confidential', true, 'minor-units'),
    currencyCode: F('internal'),
    ownerId: F('internal', true),
    discountPercent: F('confidential', true, 'number'),
    industry: F('public'),
    customerTier: F('internal'),
    status: F('internal', true),
  },
  case: {
    subject: F('internal', true),
    description: { ...F('confidential', true), queryable: false },
    status: F('internal', true),
    priority: F('internal', true),
    ownerId: F('internal', true),
    accountId: F('internal'),
    resolutionCode: F('internal', true),
    industry: F('public'),
    customerTier: F('internal'),
  },
};

const UNKNOWN_FIELD: CanonicalFieldSpec = { classification: 'confidential', writable: false };

export function fieldSpec(objectType: string, field: string): CanonicalFieldSpec {
  return CANONICAL_FIELDS[objectType]?.[field] ?? UNKNOWN_FIELD;
}

/**
 * The effective mapping (default + overlay) plus value conversion between canonical values and
 * Salesforce's (amounts in minor vs major units; `update_field` strings to typed JSON).
 */
export class SalesforceMapping {
  readonly fields: FieldMapping;
  readonly config: FieldMappingConfig;
  private readonly scale: number;

  constructor(overlay: FieldMappingConfig | undefined, minorUnitDigits: number) {
    this.config = mergeFieldMappings(DEFAULT_SALESFORCE_MAPPING, overlay);
    this.fields = new FieldMapping(this.config);
    this.scale = 10 ** minorUnitDigits;
  }

  objectTypes(): string[] {
    return this.fields.objectTypes();
  }

  crmObject(objectType: string): string {
    return this.fields.crmObject(objectType);
  }

  crmField(objectType: string, field: string): string {
    return this.fields.crmField(objectType, field);
  }

  /** Canonical names of every mapped field of an object. */
  canonicalFields(objectType: string): string[] {
    return Object.keys(this.config[objectType]?.fields ?? {});
  }

  /** Canonical value → the JSON value Salesforce expects. */
  toCrmValue(objectType: string, field: string, value: unknown): unknown {
    if (value === null || value === undefined) return null;
    if (fieldSpec(objectType, field).kind === 'minor-units' && typeof value === 'number')
      return value / this.scale;
    return value;
  }

  /** Salesforce's value → canonical value. */
  fromCrmValue(objectType: string, field: string, value: unknown): unknown {
    if (value === undefined) return null;
    if (fieldSpec(objectType, field).kind === 'minor-units' && typeof value === 'number')
      return Math.round(value * this.scale);
    return value;
  }

  /** Canonical fields → Salesforce fields and values. */
  toCrm(objectType: string, fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields))
      out[this.crmField(objectType, k)] = this.toCrmValue(objectType, k, v);
    return out;
  }

  /** Salesforce fields → canonical fields (unmapped fields dropped). */
  fromCrm(
    objectType: string,
    record: Readonly<Record<string, unknown>>,
    { omitNull }: { omitNull: boolean },
  ): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.fields.fromCrm(objectType, record))) {
      const value = this.fromCrmValue(objectType, k, v);
      if (omitNull && value === null) continue;
      out[k] = value;
    }
    return out;
  }

  /**
   * An `update_field` value (always a string on the wire) as the typed Salesforce value; an
   * empty string clears the field. Throws a permanent INVALID_VALUE that names the field only.
   */
  parseUpdateValue(objectType: string, field: string, value: string): unknown {
    if (value === '') return null;
    const kind = fieldSpec(objectType, field).kind ?? 'string';
    const bad = () =>
      ConnectorError.permanent(
        'INVALID_VALUE',
        `the value for "${objectType}.${field}" is not a valid ${kind}`,
      );
    switch (kind) {
      case 'string':
        return value;
      case 'number':
        if (!/^-?\d+(\.\d+)?$/.test(value.trim())) throw bad();
        return Number(value);
      case 'minor-units':
        if (!/^-?\d+$/.test(value.trim())) throw bad();
        return Number(value) / this.scale;
      case 'boolean':
        if (value !== 'true' && value !== 'false') throw bad();
        return value === 'true';
      case 'date':
        if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || !Number.isFinite(Date.parse(value))) throw bad();
        return value;
      case 'datetime': {
        const ms = Date.parse(value);
        if (!Number.isFinite(ms)) throw bad();
        return new Date(ms).toISOString();
      }
    }
  }

  /** A Salesforce value rendered like `update_field` strings, for previous-value comparison. */
  render(objectType: string, field: string, crmValue: unknown): string {
    const v = this.fromCrmValue(objectType, field, crmValue);
    if (v === null || v === undefined) return '';
    if (typeof v === 'boolean' || typeof v === 'number') return String(v);
    if (typeof v === 'string') return v;
    return JSON.stringify(v);
  }

  /** Capabilities' object declarations for the effective mapping. */
  objectSpecs(): ObjectSpec[] {
    return this.objectTypes().map((objectType) => ({
      objectType,
      fields: this.canonicalFields(objectType).map((name) => {
        const spec = fieldSpec(objectType, name);
        return { name, classification: spec.classification, writable: spec.writable === true };
      }),
    }));
  }
}

/** Every action the adapter executes, and those `compensate` undoes (the field-setting ones). */
export const SALESFORCE_ACTIONS: readonly string[] = CRM_ACTION_TYPES;

export const SALESFORCE_REVERSIBLE_ACTIONS = [
  'update_field',
  'qualify_lead',
  'disqualify_lead',
  'assign_owner',
  'apply_discount',
  'move_opportunity_stage',
  'close_case',
] as const;

/**
 * Salesforce's documented allocation is a rolling 24-hour request count per org plus at most 25
 * concurrent long-running requests; it has no per-second limit. 25 requests/s keeps one tenant's
 * bursts well inside what an org sustains without starving the org's other integrations.
 */
export const SALESFORCE_RATE_LIMIT = { requestsPerSecond: 25, burst: 25 } as const;

export function salesforceCapabilities(mapping: SalesforceMapping): ConnectorCapabilities {
  return {
    connector: 'salesforce',
    objects: mapping.objectSpecs(),
    actions: [...SALESFORCE_ACTIONS],
    reversibleActions: [...SALESFORCE_REVERSIBLE_ACTIONS],
    changeFeed: 'polling',
    crmSideIdempotency: true,
    rateLimit: { ...SALESFORCE_RATE_LIMIT },
  };
}
