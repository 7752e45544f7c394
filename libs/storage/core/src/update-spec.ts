import type { ScalarValue } from './document-store.port';
import {
  assertCallerField,
  copyValue,
  isPlainObject,
  isScalarValue,
  normalizeValue,
} from './document-values';
import { InvalidStorageRequestError } from './storage.errors';
import { valuesEqual } from './value-order';

/** An `UpdateSpec` after validation, minus the outbox (handled by the store itself). */
export interface NormalizedUpdate {
  readonly set: Readonly<Record<string, unknown>>;
  readonly unset: readonly string[];
  readonly inc: Readonly<Record<string, number>>;
  readonly push: Readonly<Record<string, readonly unknown[]>>;
  readonly pull: Readonly<Record<string, readonly ScalarValue[]>>;
  readonly setOnInsert: Readonly<Record<string, unknown>>;
}

type Operator = 'set' | 'unset' | 'inc' | 'push' | 'pull' | 'setOnInsert';

function entriesOf(spec: Record<string, unknown>, op: Operator): [string, unknown][] {
  const value = spec[op];
  if (value === undefined) return [];
  if (op === 'unset') {
    if (!Array.isArray(value))
      throw new InvalidStorageRequestError('unset must be an array of field names');
    return value.map((field) => {
      if (typeof field !== 'string')
        throw new InvalidStorageRequestError('unset must be an array of field names');
      return [field, true];
    });
  }
  if (!isPlainObject(value)) throw new InvalidStorageRequestError(`${op} must be a plain object`);
  return Object.entries(value).filter(([, v]) => v !== undefined);
}

/**
 * Validates the operators of an update. Each field may appear under one operator only, as
 * MongoDB requires (it rejects conflicting paths), so both adapters fail the same way.
 */
export function normalizeUpdate(spec: unknown): NormalizedUpdate {
  if (!isPlainObject(spec)) throw new InvalidStorageRequestError('update must be a plain object');
  for (const key of Object.keys(spec)) {
    if (!['set', 'unset', 'inc', 'push', 'pull', 'setOnInsert', 'outbox'].includes(key)) {
      throw new InvalidStorageRequestError(`unknown update operator "${key}"`);
    }
  }
  const owner = new Map<string, Operator>();
  const claim = (field: string, op: Operator): void => {
    assertCallerField(field);
    const previous = owner.get(field);
    if (previous !== undefined) {
      throw new InvalidStorageRequestError(
        `field "${field}" appears in both ${previous} and ${op}`,
      );
    }
    owner.set(field, op);
  };

  const set: Record<string, unknown> = {};
  for (const [field, value] of entriesOf(spec, 'set')) {
    claim(field, 'set');
    set[field] = normalizeValue(value, `set.${field}`);
  }
  const unset: string[] = [];
  for (const [field] of entriesOf(spec, 'unset')) {
    claim(field, 'unset');
    unset.push(field);
  }
  const inc: Record<string, number> = {};
  for (const [field, value] of entriesOf(spec, 'inc')) {
    claim(field, 'inc');
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new InvalidStorageRequestError(`inc.${field} must be a finite number`);
    }
    inc[field] = value;
  }
  const push: Record<string, unknown[]> = {};
  for (const [field, value] of entriesOf(spec, 'push')) {
    claim(field, 'push');
    if (!Array.isArray(value))
      throw new InvalidStorageRequestError(`push.${field} must be an array of elements to append`);
    // An empty list is no change at all (FerretDB 1.24 does not create the field for it).
    if (value.length > 0) push[field] = normalizeValue(value, `push.${field}`) as unknown[];
  }
  const pull: Record<string, ScalarValue[]> = {};
  for (const [field, value] of entriesOf(spec, 'pull')) {
    claim(field, 'pull');
    if (!Array.isArray(value) || !value.every(isScalarValue)) {
      throw new InvalidStorageRequestError(`pull.${field} must be an array of scalar values`);
    }
    if (value.length > 0) pull[field] = normalizeValue(value, `pull.${field}`) as ScalarValue[];
  }
  const setOnInsert: Record<string, unknown> = {};
  for (const [field, value] of entriesOf(spec, 'setOnInsert')) {
    claim(field, 'setOnInsert');
    setOnInsert[field] = normalizeValue(value, `setOnInsert.${field}`);
  }
  return { set, unset, inc, push, pull, setOnInsert };
}

export function isEmptyUpdate(update: NormalizedUpdate): boolean {
  return (
    Object.keys(update.set).length === 0 &&
    update.unset.length === 0 &&
    Object.keys(update.inc).length === 0 &&
    Object.keys(update.push).length === 0 &&
    Object.keys(update.pull).length === 0
  );
}

/**
 * Applies an update to a copy of `fields` with MongoDB's semantics ($inc/$push create missing
 * fields, $pullAll ignores them, type mismatches fail). `inserting` adds `setOnInsert`.
 */
export function applyUpdate(
  fields: Readonly<Record<string, unknown>>,
  update: NormalizedUpdate,
  inserting: boolean,
): Record<string, unknown> {
  const out = copyValue(fields) as Record<string, unknown>;
  if (inserting)
    for (const [field, value] of Object.entries(update.setOnInsert)) out[field] = copyValue(value);
  for (const [field, value] of Object.entries(update.set)) out[field] = copyValue(value);
  for (const field of update.unset) delete out[field];
  for (const [field, amount] of Object.entries(update.inc)) {
    const current = out[field];
    if (current === undefined) out[field] = amount;
    else if (typeof current === 'number') out[field] = current + amount;
    else throw new InvalidStorageRequestError(`cannot inc non-numeric field "${field}"`);
  }
  for (const [field, elements] of Object.entries(update.push)) {
    const current = out[field];
    if (current === undefined) out[field] = copyValue(elements);
    else if (Array.isArray(current)) out[field] = [...current, ...copyValue(elements)];
    else throw new InvalidStorageRequestError(`cannot push to non-array field "${field}"`);
  }
  for (const [field, values] of Object.entries(update.pull)) {
    const current = out[field];
    if (current === undefined) continue;
    if (!Array.isArray(current))
      throw new InvalidStorageRequestError(`cannot pull from non-array field "${field}"`);
    out[field] = current.filter((element) => !values.some((v) => valuesEqual(element, v)));
  }
  return out;
}
