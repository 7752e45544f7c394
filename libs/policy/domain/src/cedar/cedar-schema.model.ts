import { schemaToJsonWithResolvedTypes } from '@cedar-policy/cedar-wasm/nodejs';
import { formatCedarError } from './cedar-errors';

/** An attribute type as the request mapper needs it (common types resolved). */
export type AttrType =
  | { kind: 'String' }
  | { kind: 'Long' }
  | { kind: 'Bool' }
  | { kind: 'decimal' }
  | { kind: 'Set'; element: AttrType }
  | { kind: 'Entity'; name: string }
  | { kind: 'Record'; shape: AttrShape }
  /** A type the mapper cannot produce (datetime, ipaddr, ...): such attributes are never set. */
  | { kind: 'unsupported'; name: string };

export interface AttrSpec {
  type: AttrType;
  required: boolean;
}

export type AttrShape = ReadonlyMap<string, AttrSpec>;

export interface EntityTypeModel {
  shape: AttrShape;
  memberOfTypes: string[];
}

export interface ActionModel {
  principalTypes: string[];
  resourceTypes: string[];
  context: AttrShape;
}

/** What the evaluator needs to know of a schema: entity shapes and what each action applies to. */
export interface SchemaModel {
  /** Qualified entity type name ("Mandate::Lead") → its shape. */
  entityTypes: ReadonlyMap<string, EntityTypeModel>;
  /** Qualified action id ("Mandate::Action::send_email" is keyed as "Mandate::send_email"). */
  actions: ReadonlyMap<string, ActionModel>;
}

type JsonType = { type: string; [k: string]: unknown };
type JsonNamespace = {
  commonTypes?: Record<string, JsonType>;
  entityTypes?: Record<string, { memberOfTypes?: string[]; shape?: JsonType; enum?: string[] }>;
  actions?: Record<
    string,
    { appliesTo?: { principalTypes?: string[]; resourceTypes?: string[]; context?: JsonType } }
  >;
};

/** Reads a Cedar schema (human-readable form) into a `SchemaModel`. Never throws. */
export function readSchemaModel(
  schemaText: string,
): { ok: true; model: SchemaModel } | { ok: false; errors: string[] } {
  const answer = schemaToJsonWithResolvedTypes(schemaText);
  if (answer.type === 'failure')
    return { ok: false, errors: answer.errors.map((e) => formatCedarError(e, schemaText)) };
  const namespaces = answer.json as unknown as Record<string, JsonNamespace>;
  const qualify = (ns: string, name: string) => (ns ? `${ns}::${name}` : name);

  const commonTypes = new Map<string, JsonType>();
  for (const [ns, def] of Object.entries(namespaces))
    for (const [name, t] of Object.entries(def.commonTypes ?? {}))
      commonTypes.set(qualify(ns, name), t);

  const toAttrType = (ns: string, t: JsonType, depth = 0): AttrType => {
    if (depth > 32) return { kind: 'unsupported', name: 'recursive type' };
    switch (t.type) {
      case 'String':
      case 'Long':
        return { kind: t.type };
      case 'Bool':
      case 'Boolean':
        return { kind: 'Bool' };
      case 'decimal':
      case '__cedar::decimal':
        return { kind: 'decimal' };
      case 'Set':
        return { kind: 'Set', element: toAttrType(ns, t['element'] as JsonType, depth + 1) };
      case 'Entity':
        return { kind: 'Entity', name: String(t['name']) };
      case 'Record':
        return { kind: 'Record', shape: toShape(ns, t, depth + 1) };
      case 'Extension':
        return String(t['name']) === 'decimal'
          ? { kind: 'decimal' }
          : { kind: 'unsupported', name: String(t['name']) };
      default: {
        const common = commonTypes.get(t.type) ?? commonTypes.get(qualify(ns, t.type));
        return common ? toAttrType(ns, common, depth + 1) : { kind: 'unsupported', name: t.type };
      }
    }
  };
  const toShape = (ns: string, t: JsonType | undefined, depth = 0): AttrShape => {
    const shape = new Map<string, AttrSpec>();
    if (!t) return shape;
    const record =
      t.type === 'Record' ? t : (commonTypes.get(t.type) ?? commonTypes.get(qualify(ns, t.type)));
    const attributes = (record?.['attributes'] ?? {}) as Record<
      string,
      JsonType & { required?: boolean }
    >;
    for (const [name, attr] of Object.entries(attributes))
      shape.set(name, { type: toAttrType(ns, attr, depth), required: attr.required !== false });
    return shape;
  };

  const entityTypes = new Map<string, EntityTypeModel>();
  const actions = new Map<string, ActionModel>();
  for (const [ns, def] of Object.entries(namespaces)) {
    for (const [name, et] of Object.entries(def.entityTypes ?? {}))
      entityTypes.set(qualify(ns, name), {
        shape: toShape(ns, et.shape),
        memberOfTypes: et.memberOfTypes ?? [],
      });
    for (const [id, action] of Object.entries(def.actions ?? {}))
      actions.set(qualify(ns, id), {
        principalTypes: action.appliesTo?.principalTypes ?? [],
        resourceTypes: action.appliesTo?.resourceTypes ?? [],
        context: toShape(ns, action.appliesTo?.context),
      });
  }
  return { ok: true, model: { entityTypes, actions } };
}
