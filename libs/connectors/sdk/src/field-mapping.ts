import { ConnectorError } from './errors';

/**
 * How canonical objects and fields (what agents, policy and events use) map to a CRM's own names,
 * per object type. Configuration, not code: a tenant whose Salesforce org calls the lead score
 * `Lead_Score__c` changes the mapping, not the adapter.
 *
 * ```json
 * { "lead": { "crmObject": "Lead", "fields": { "name": "Name", "score": "Lead_Score__c" } } }
 * ```
 */
export type FieldMappingConfig = Readonly<
  Record<string, { readonly crmObject: string; readonly fields: Readonly<Record<string, string>> }>
>;

export class FieldMappingError extends Error {
  override readonly name = 'FieldMappingError';
}

/** Canonical ↔ CRM names, validated once; lookups of unmapped names fail loudly. */
export class FieldMapping {
  private readonly byObject = new Map<
    string,
    { crmObject: string; toCrm: Map<string, string>; fromCrm: Map<string, string> }
  >();
  private readonly byCrmObject = new Map<string, string>();

  constructor(config: FieldMappingConfig) {
    const problems = fieldMappingProblems(config);
    if (problems.length)
      throw new FieldMappingError(`invalid field mapping: ${problems.join('; ')}`);
    for (const [objectType, m] of Object.entries(config)) {
      const toCrm = new Map(Object.entries(m.fields));
      const fromCrm = new Map(Object.entries(m.fields).map(([c, crm]) => [crm, c]));
      this.byObject.set(objectType, { crmObject: m.crmObject, toCrm, fromCrm });
      this.byCrmObject.set(m.crmObject, objectType);
    }
  }

  /** Canonical object types mapped. */
  objectTypes(): string[] {
    return [...this.byObject.keys()];
  }

  hasObject(objectType: string): boolean {
    return this.byObject.has(objectType);
  }

  /** The CRM's object name; a permanent `UNMAPPED_OBJECT` error when not mapped. */
  crmObject(objectType: string): string {
    return this.object(objectType).crmObject;
  }

  /** The canonical object type of a CRM object name, or undefined. */
  objectTypeOf(crmObject: string): string | undefined {
    return this.byCrmObject.get(crmObject);
  }

  /** The CRM's field name; a permanent `UNMAPPED_FIELD` error when not mapped. */
  crmField(objectType: string, field: string): string {
    const name = this.object(objectType).toCrm.get(field);
    if (!name)
      throw ConnectorError.permanent(
        'UNMAPPED_FIELD',
        `field "${objectType}.${field}" is not mapped to a CRM field`,
      );
    return name;
  }

  /** The CRM field names of canonical fields (each must be mapped). */
  crmFields(objectType: string, fields: readonly string[]): string[] {
    return fields.map((f) => this.crmField(objectType, f));
  }

  /** Every mapped CRM field of an object. */
  allCrmFields(objectType: string): string[] {
    return [...this.object(objectType).toCrm.values()];
  }

  /** Canonical fields → CRM fields (each must be mapped). */
  toCrm(objectType: string, fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) out[this.crmField(objectType, k)] = v;
    return out;
  }

  /** CRM fields → canonical fields; CRM fields that are not mapped are dropped. */
  fromCrm(objectType: string, fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const m = this.object(objectType);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) {
      const canonical = m.fromCrm.get(k);
      if (canonical !== undefined) out[canonical] = v;
    }
    return out;
  }

  private object(objectType: string) {
    const m = this.byObject.get(objectType);
    if (!m)
      throw ConnectorError.permanent(
        'UNMAPPED_OBJECT',
        `object type "${objectType}" is not mapped to a CRM object`,
      );
    return m;
  }
}

/** Problems with a mapping, as sentences; empty when valid. */
export function fieldMappingProblems(config: unknown): string[] {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    return ['must be an object of {objectType: {crmObject, fields}}'];
  const problems: string[] = [];
  const crmObjects = new Set<string>();
  for (const [objectType, m] of Object.entries(config as Record<string, unknown>)) {
    const entry = m as { crmObject?: unknown; fields?: unknown };
    if (typeof entry !== 'object' || entry === null) {
      problems.push(`"${objectType}" must be {crmObject, fields}`);
      continue;
    }
    if (typeof entry.crmObject !== 'string' || !entry.crmObject)
      problems.push(`"${objectType}.crmObject" must be a non-empty string`);
    else if (crmObjects.has(entry.crmObject))
      problems.push(`CRM object "${entry.crmObject}" is mapped twice`);
    else crmObjects.add(entry.crmObject);
    if (typeof entry.fields !== 'object' || entry.fields === null || Array.isArray(entry.fields)) {
      problems.push(`"${objectType}.fields" must be an object of {canonical: crmField}`);
      continue;
    }
    const targets = new Set<string>();
    for (const [field, crm] of Object.entries(entry.fields as Record<string, unknown>)) {
      if (typeof crm !== 'string' || !crm)
        problems.push(`"${objectType}.fields.${field}" must be a non-empty string`);
      else if (targets.has(crm))
        problems.push(`"${objectType}": CRM field "${crm}" is mapped from two canonical fields`);
      else targets.add(crm);
    }
  }
  return problems;
}

/** Parses a mapping from JSON text (configuration), with every problem in the message. */
export function parseFieldMapping(json: string): FieldMapping {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new FieldMappingError(
      `field mapping is not valid JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return new FieldMapping(raw as FieldMappingConfig);
}

/** Overlays a tenant's partial mapping on an adapter's default (per object, per field). */
export function mergeFieldMappings(
  base: FieldMappingConfig,
  overlay: FieldMappingConfig | undefined,
): FieldMappingConfig {
  if (!overlay) return base;
  const out: Record<string, { crmObject: string; fields: Record<string, string> }> = {};
  for (const [k, v] of Object.entries(base))
    out[k] = { crmObject: v.crmObject, fields: { ...v.fields } };
  for (const [k, v] of Object.entries(overlay)) {
    const prev = out[k];
    out[k] = {
      crmObject: v.crmObject ?? prev?.crmObject,
      fields: { ...(prev?.fields ?? {}), ...(v.fields ?? {}) },
    };
  }
  return out;
}
