import { CRM_ACTION_TYPES } from '@mandate/contracts';
import {
  isPlainObject,
  ProblemList,
  readNonEmptyString,
  readNumber,
  rejectUnknownKeys,
} from './bundle-config.error';

/** Factor names, as they appear in `RiskContribution.factor` (and in this order). */
export const RISK_FACTORS = [
  'monetary_impact',
  'reversibility',
  'customer_tier',
  'data_sensitivity',
  'regulatory',
  'external_visibility',
  'model_confidence',
  'novelty',
] as const;
export type RiskFactor = (typeof RISK_FACTORS)[number];

/** Risk bands, least to most risky. */
export const RISK_BANDS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskBand = (typeof RISK_BANDS)[number];

/**
 * Action variants whose risk differs from their action type's (looked up before the type):
 * a public case reply is seen by the customer, an internal note is not; closing an opportunity
 * (won or lost) triggers downstream processes that are hard to undo.
 */
export const RISK_ACTION_VARIANTS = [
  'reply_to_case.public',
  'reply_to_case.internal',
  'move_opportunity_stage.closed',
] as const;

/** Action types that touch a field named by the action itself rather than a fixed set. */
const FIELD_FROM_ACTION = new Set(['update_field']);

/** The risk model of one bundle version (risk.json). Every value table is 0..1, 1 = riskiest. */
export interface RiskModelConfig {
  readonly version: string;
  /** Factor weights; they sum to 1, so the score stays within 0..1. */
  readonly weights: Readonly<Record<RiskFactor, number>>;
  /** Lower bound of each band (score >= bound); `low` is 0 and the bounds increase. */
  readonly bands: Readonly<Record<RiskBand, number>>;
  readonly monetary: {
    /** Impact (minor units) at and below which the factor is 0. */
    readonly floorMinor: number;
    /** Impact (minor units) at and above which the factor is 1; log-scaled in between. */
    readonly fullScaleMinor: number;
    /** update_field on these fields is a discount in percent of the record's `amountMinor`. */
    readonly percentFields: readonly string[];
    /** update_field on these fields changes an amount held in minor units (impact = |new − old|). */
    readonly minorUnitFields: readonly string[];
    /** update_field on these fields moves money in a unit policy cannot tell: impact 1. */
    readonly otherMonetaryFields: readonly string[];
  };
  /** Per action type or variant: 0 = trivially undone, 1 = cannot be undone. */
  readonly reversibility: Readonly<Record<string, number>>;
  /** Per action type or variant: 0 = internal only, 1 = the customer sees it. */
  readonly externalVisibility: Readonly<Record<string, number>>;
  readonly dataSensitivity: {
    /** Fields each action type touches (update_field: the field it names). */
    readonly actionFields: Readonly<Record<string, readonly string[]>>;
    /** Per field name (lower-cased): 1 = personal data, ~0.5 = pricing / free text, 0 = public. */
    readonly fields: Readonly<Record<string, number>>;
    /** Value of a field not listed (fail closed: 1). */
    readonly unknownField: number;
  };
  /** Per normalised `customerTier` fact; a missing or unlisted tier counts as 1. */
  readonly customerTier: Readonly<Record<string, number>>;
  readonly regulatory: {
    /** Per normalised `industry` fact; an industry not listed is 0. */
    readonly industries: Readonly<Record<string, number>>;
  };
}

/** Lower-case, trimmed, spaces and underscores as dashes: "Mid Market" → "mid-market". */
export function normalizeLabel(value: string): string {
  return value
    .trim()
    .toLowerCase()
    .replace(/[\s_]+/g, '-');
}

const TOP_KEYS = [
  'version',
  'description',
  'weights',
  'bands',
  'monetary',
  'reversibility',
  'externalVisibility',
  'dataSensitivity',
  'customerTier',
  'regulatory',
];
const WEIGHT_SUM_TOLERANCE = 1e-6;

/**
 * Parses and validates risk.json. Every factor needs a weight (weights sum to 1), every action
 * type needs a reversibility, a visibility and its touched fields, and unknown keys are refused:
 * a typo must not silently make an action look safe. Throws `BundleConfigError` listing all
 * problems.
 */
export function parseRiskConfig(json: unknown, file = 'risk.json'): RiskModelConfig {
  const p = new ProblemList();
  if (!isPlainObject(json)) {
    p.add('$', 'must be a JSON object');
    p.throwIfAny(file);
  }
  const root = json as Record<string, unknown>;
  rejectUnknownKeys(p, '$', root, TOP_KEYS);
  const version = readNonEmptyString(p, '$.version', root['version']);
  const weights = readWeights(p, root['weights']);
  const bands = readBands(p, root['bands']);
  const monetary = readMonetary(p, root['monetary']);
  const reversibility = readActionTable(p, '$.reversibility', root['reversibility']);
  const externalVisibility = readActionTable(p, '$.externalVisibility', root['externalVisibility']);
  const dataSensitivity = readDataSensitivity(p, root['dataSensitivity']);
  const customerTier = readLabelTable(p, '$.customerTier', root['customerTier']);
  const regulatory = readRegulatory(p, root['regulatory']);
  p.throwIfAny(file);
  return {
    version: version as string,
    weights: weights as Record<RiskFactor, number>,
    bands: bands as Record<RiskBand, number>,
    monetary: monetary as RiskModelConfig['monetary'],
    reversibility,
    externalVisibility,
    dataSensitivity: dataSensitivity as RiskModelConfig['dataSensitivity'],
    customerTier,
    regulatory: regulatory as RiskModelConfig['regulatory'],
  };
}

function readObject(
  p: ProblemList,
  path: string,
  value: unknown,
): Record<string, unknown> | undefined {
  if (!isPlainObject(value)) {
    p.add(path, 'must be an object');
    return undefined;
  }
  return value;
}

function readWeights(p: ProblemList, value: unknown): Record<RiskFactor, number> | undefined {
  const obj = readObject(p, '$.weights', value);
  if (!obj) return undefined;
  rejectUnknownKeys(p, '$.weights', obj, RISK_FACTORS);
  const out = {} as Record<RiskFactor, number>;
  let complete = true;
  for (const factor of RISK_FACTORS) {
    if (!(factor in obj)) {
      p.add(`$.weights.${factor}`, 'is missing (every factor needs a weight; 0 disables it)');
      complete = false;
      continue;
    }
    const w = readNumber(p, `$.weights.${factor}`, obj[factor], 0, 1);
    if (w === undefined) complete = false;
    else out[factor] = w;
  }
  if (complete) {
    const sum = RISK_FACTORS.reduce((s, f) => s + out[f], 0);
    if (Math.abs(sum - 1) > WEIGHT_SUM_TOLERANCE) p.add('$.weights', `must sum to 1, got ${sum}`);
  }
  return out;
}

function readBands(p: ProblemList, value: unknown): Record<RiskBand, number> | undefined {
  const obj = readObject(p, '$.bands', value);
  if (!obj) return undefined;
  rejectUnknownKeys(p, '$.bands', obj, RISK_BANDS);
  const out = {} as Record<RiskBand, number>;
  let previous: number | undefined;
  for (const band of RISK_BANDS) {
    const bound = readNumber(p, `$.bands.${band}`, obj[band], 0, 1);
    if (bound === undefined) {
      previous = undefined;
      continue;
    }
    if (band === 'low' && bound !== 0)
      p.add('$.bands.low', 'must be 0 (every score falls in a band)');
    if (previous !== undefined && bound <= previous)
      p.add(`$.bands.${band}`, `must be greater than the previous band's bound (${previous})`);
    out[band] = bound;
    previous = bound;
  }
  return out;
}

function readStringList(p: ProblemList, path: string, value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.trim() === '')) {
    p.add(path, 'must be an array of non-empty strings');
    return [];
  }
  return value.map((v: string) => v.trim().toLowerCase());
}

function readMonetary(p: ProblemList, value: unknown): RiskModelConfig['monetary'] | undefined {
  const obj = readObject(p, '$.monetary', value);
  if (!obj) return undefined;
  const keys = [
    'floorMinor',
    'fullScaleMinor',
    'percentFields',
    'minorUnitFields',
    'otherMonetaryFields',
  ];
  rejectUnknownKeys(p, '$.monetary', obj, keys);
  const floorMinor = readNumber(p, '$.monetary.floorMinor', obj['floorMinor'], 1, 1e15);
  const fullScaleMinor = readNumber(p, '$.monetary.fullScaleMinor', obj['fullScaleMinor'], 1, 1e15);
  if (floorMinor !== undefined && fullScaleMinor !== undefined && fullScaleMinor <= floorMinor)
    p.add('$.monetary.fullScaleMinor', 'must be greater than floorMinor');
  return {
    floorMinor: floorMinor ?? 0,
    fullScaleMinor: fullScaleMinor ?? 0,
    percentFields: readStringList(p, '$.monetary.percentFields', obj['percentFields']),
    minorUnitFields: readStringList(p, '$.monetary.minorUnitFields', obj['minorUnitFields']),
    otherMonetaryFields: readStringList(
      p,
      '$.monetary.otherMonetaryFields',
      obj['otherMonetaryFields'],
    ),
  };
}

/** A 0..1 value per action type (all required) and optionally per known variant. */
function readActionTable(p: ProblemList, path: string, value: unknown): Record<string, number> {
  const obj = readObject(p, path, value);
  const out: Record<string, number> = {};
  if (!obj) return out;
  const allowed = [...CRM_ACTION_TYPES, ...RISK_ACTION_VARIANTS];
  rejectUnknownKeys(p, path, obj, allowed);
  for (const type of CRM_ACTION_TYPES) {
    if (!(type in obj)) p.add(`${path}.${type}`, 'is missing (every action type needs a value)');
  }
  for (const [key, v] of Object.entries(obj)) {
    if (!allowed.includes(key)) continue;
    const n = readNumber(p, `${path}.${key}`, v, 0, 1);
    if (n !== undefined) out[key] = n;
  }
  return out;
}

function readLabelTable(p: ProblemList, path: string, value: unknown): Record<string, number> {
  const obj = readObject(p, path, value);
  const out: Record<string, number> = {};
  if (!obj) return out;
  for (const [key, v] of Object.entries(obj)) {
    const n = readNumber(p, `${path}.${key}`, v, 0, 1);
    const label = normalizeLabel(key);
    if (label in out) p.add(`${path}.${key}`, `duplicates "${label}" after normalisation`);
    if (n !== undefined) out[label] = n;
  }
  return out;
}

function readDataSensitivity(
  p: ProblemList,
  value: unknown,
): RiskModelConfig['dataSensitivity'] | undefined {
  const path = '$.dataSensitivity';
  const obj = readObject(p, path, value);
  if (!obj) return undefined;
  rejectUnknownKeys(p, path, obj, ['actionFields', 'fields', 'unknownField']);
  const actionFields: Record<string, string[]> = {};
  const af = readObject(p, `${path}.actionFields`, obj['actionFields']);
  if (af) {
    const types = CRM_ACTION_TYPES.filter((t) => !FIELD_FROM_ACTION.has(t));
    rejectUnknownKeys(p, `${path}.actionFields`, af, types);
    for (const type of types) {
      if (!(type in af)) {
        p.add(`${path}.actionFields.${type}`, 'is missing (list the fields the action touches)');
        continue;
      }
      actionFields[type] = readStringList(p, `${path}.actionFields.${type}`, af[type]);
    }
  }
  const fields: Record<string, number> = {};
  const f = readObject(p, `${path}.fields`, obj['fields']);
  if (f) {
    for (const [name, v] of Object.entries(f)) {
      const n = readNumber(p, `${path}.fields.${name}`, v, 0, 1);
      const key = name.trim().toLowerCase();
      if (key in fields) p.add(`${path}.fields.${name}`, 'is listed twice (names are case-blind)');
      if (n !== undefined) fields[key] = n;
    }
  }
  const unknownField = readNumber(p, `${path}.unknownField`, obj['unknownField'], 0, 1);
  return { actionFields, fields, unknownField: unknownField ?? 1 };
}

function readRegulatory(p: ProblemList, value: unknown): RiskModelConfig['regulatory'] | undefined {
  const obj = readObject(p, '$.regulatory', value);
  if (!obj) return undefined;
  rejectUnknownKeys(p, '$.regulatory', obj, ['industries']);
  return { industries: readLabelTable(p, '$.regulatory.industries', obj['industries']) };
}
