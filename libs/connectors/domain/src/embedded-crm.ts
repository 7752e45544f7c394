import { createHash } from 'node:crypto';
import {
  ConnectorError,
  findOrderComparator,
  matchesFindConditions,
  type ChangePage,
  type ExecuteResult,
  type FindRequest,
  type FindResult,
} from '@mandate/connector-sdk';
import { ChangeType, CrmChangeEvent, type CrmAction } from '@mandate/contracts';
import {
  ConcurrencyError,
  DuplicateKeyError,
  StorageUnavailableError,
  type DocumentStore,
  type TenantId,
  type UpdateSpec,
  type Versioned,
} from '@mandate/storage';
import { changeAnnouncement } from './change-ingestor';
import { planCrmChange, type CrmRecord } from './crm-action.applier';

export const OBJECT_TYPES = [
  'user',
  'account',
  'contact',
  'lead',
  'opportunity',
  'case',
  'activity',
] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export type CrmRecordDoc = CrmRecord & { updatedAt: Date };

/** Bad input to the embedded CRM's own API (HTTP 400), as opposed to an action's failure. */
export class CrmInputError extends Error {
  override readonly name = 'CrmInputError';
}

/** A failure the embedded CRM can be told to produce, as real CRMs do (conformance, chaos drills). */
export type EmbeddedFault =
  | { readonly kind: 'rate-limit'; readonly retryAfterSeconds: number }
  | { readonly kind: 'server-error' }
  | { readonly kind: 'auth-expired' }
  | { readonly kind: 'validation' };

/** What `apply` needs to undo an action: the previous value of each field it set (null = absent). */
export interface EmbeddedUndo {
  readonly previous: Record<string, unknown>;
}

const MAX_FIELDS = 200;
/** Records read per store call while `find` scans an object type. */
const FIND_PAGE = 500;
const MAX_VALUE_LENGTH = 100_000;

/**
 * The embedded CRM: records in a document store (MongoDB when distributed, memory or a journal
 * file when embedded), a change feed, and the CRM-side half of idempotency (each record keeps
 * the keys of the actions applied to it, updated in the same atomic write as the fields).
 * Creating or editing a record as a user announces it (CrmChangeEvent + audit record) in the
 * same write, through the record's outbox; changes made by executed actions are visible to the
 * polling feed but are not pushed (Mandate does not react to its own writes).
 */
export class EmbeddedCrm {
  private lastModstamp = 0;
  private readonly faults: EmbeddedFault[] = [];

  constructor(
    private readonly records: DocumentStore<CrmRecordDoc>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Creates a record as a user would; its CREATED event enters Mandate. */
  async create(
    tenant: TenantId,
    objectType: string,
    id: string,
    fields: Record<string, unknown>,
    correlationId?: string,
  ): Promise<{ record: Versioned<CrmRecordDoc>; event: CrmChangeEvent; created: boolean }> {
    assertObjectType(objectType);
    assertRecordId(id);
    assertFields(fields);
    const at = this.now();
    const modstamp = this.nextModstamp();
    const event = this.changeEvent(
      tenant,
      objectType,
      id,
      'created',
      Object.keys(fields),
      fields,
      at,
      modstamp,
      correlationId,
    );
    try {
      const record = await this.records.insert(
        tenant,
        {
          id,
          objectType,
          fields,
          appliedActions: [],
          activities: [],
          modstamp,
          createdAt: at.toISOString(),
          updatedAt: at,
        },
        { outbox: changeAnnouncement(tenant, event) },
      );
      return { record, event, created: true };
    } catch (err) {
      if (!(err instanceof DuplicateKeyError)) throw err;
      const record = await this.records.get(tenant, id);
      if (!record) throw err;
      return { record, event, created: false };
    }
  }

  /** Edits a record as a user would; its UPDATED event (changed fields only) enters Mandate. */
  async update(
    tenant: TenantId,
    objectType: string,
    id: string,
    changes: Record<string, unknown>,
    correlationId?: string,
  ): Promise<{ record: Versioned<CrmRecordDoc>; event: CrmChangeEvent }> {
    assertObjectType(objectType);
    assertFields(changes);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.records.get(tenant, id);
      if (!current || current.objectType !== objectType)
        throw new CrmRecordNotFoundError(`${objectType} ${id} not found`);
      const fields = { ...current.fields, ...changes };
      const at = this.now();
      const modstamp = this.nextModstamp();
      const event = this.changeEvent(
        tenant,
        objectType,
        id,
        'updated',
        Object.keys(changes),
        fields,
        at,
        modstamp,
        correlationId,
      );
      try {
        const record = await this.records.update(
          tenant,
          id,
          { set: { fields, modstamp, updatedAt: at }, outbox: changeAnnouncement(tenant, event) },
          { expectVersion: current.version },
        );
        return { record, event };
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw new CrmContentionError(`record ${id} kept changing; try again`);
  }

  /**
   * Loads records without announcing them (a dataset import, not user activity): existing ids
   * are left as they are. Returns how many were inserted.
   */
  async importRecords(
    tenant: TenantId,
    records: ReadonlyArray<{ objectType: string; id: string; fields: Record<string, unknown> }>,
  ): Promise<number> {
    let inserted = 0;
    for (const r of records) {
      assertObjectType(r.objectType);
      assertRecordId(r.id);
      const at = this.now();
      try {
        await this.records.insert(tenant, {
          id: r.id,
          objectType: r.objectType,
          fields: r.fields,
          appliedActions: [],
          activities: [],
          modstamp: this.nextModstamp(),
          createdAt: at.toISOString(),
          updatedAt: at,
        });
        inserted++;
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
      }
    }
    return inserted;
  }

  get(tenant: TenantId, id: string): Promise<Versioned<CrmRecordDoc> | null> {
    return this.records.get(tenant, id);
  }

  /** Only the requested fields of a record, or null when it does not exist (or is another type). */
  async read(
    tenant: TenantId,
    objectType: string,
    id: string,
    fields: readonly string[],
  ): Promise<Record<string, unknown> | null> {
    await this.failIfAsked();
    const record = await this.guard(() => this.records.get(tenant, id));
    if (!record || record.objectType !== objectType) return null;
    const out: Record<string, unknown> = {};
    for (const f of fields) if (f in record.fields) out[f] = record.fields[f];
    return out;
  }

  /**
   * The records of one object type whose fields satisfy `equals` (the SDK's exact `String()`
   * equality), in the requested order, with only the requested fields. The store selects the
   * object type (index `by_object_type`) and pages by id; the field conditions are evaluated
   * here, because record fields are a sub-document and the store's filters are top-level only
   * (portable across MongoDB, FerretDB, memory and the journal). Without an order the scan stops
   * at `limit + 1` matches; with one it reads the whole type, keeping only the best `limit + 1`.
   */
  async find(tenant: TenantId, request: FindRequest): Promise<FindResult> {
    await this.failIfAsked();
    const compare = findOrderComparator<Versioned<CrmRecordDoc>>(
      request.orderBy,
      (d) => d.fields,
      (d) => d.id,
    );
    const keep = request.limit + 1;
    let matches: Versioned<CrmRecordDoc>[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.guard(() =>
        this.records.find(
          tenant,
          after === undefined
            ? { objectType: request.objectType }
            : { objectType: request.objectType, id: { $gt: after } },
          { sort: { id: 1 }, limit: FIND_PAGE },
        ),
      );
      for (const d of page) if (matchesFindConditions(d.fields, request.equals)) matches.push(d);
      if (matches.length >= keep * 2) matches = matches.sort(compare).slice(0, keep);
      if (!request.orderBy && matches.length >= keep) break;
      if (page.length < FIND_PAGE) break;
      after = page[page.length - 1].id;
    }
    matches.sort(compare);
    return {
      records: matches.slice(0, request.limit).map((d) => {
        const fields: Record<string, unknown> = {};
        for (const f of request.fields) if (Object.hasOwn(d.fields, f)) fields[f] = d.fields[f];
        return { target: { objectType: d.objectType, recordId: d.id }, fields };
      }),
      truncated: matches.length > request.limit,
    };
  }

  /**
   * Applies an action to its record at most once per key: the key is recorded in the same
   * atomic write as the change, so a retry after a crash finds it and changes nothing.
   */
  async apply(
    tenant: TenantId,
    key: string,
    target: { objectType: string; recordId: string },
    action: CrmAction,
  ): Promise<ExecuteResult> {
    await this.failIfAsked();
    return this.changeRecord(tenant, target, async (record) => {
      if (record.appliedActions.includes(key)) return { result: { status: 'already-applied' } };
      const change = planCrmChange(record, action);
      if (action.kind?.$case === 'sendEmail')
        await this.assertConsent(tenant, record, action.kind.value.toContactId);
      const previous: Record<string, unknown> = {};
      for (const k of Object.keys(change.set))
        previous[k] = k in record.fields ? record.fields[k] : null;
      const at = this.now();
      const undo: EmbeddedUndo = { previous };
      return {
        update: {
          set: {
            fields: { ...record.fields, ...change.set },
            modstamp: this.nextModstamp(),
            updatedAt: at,
          },
          push: {
            appliedActions: [key],
            ...(change.activity
              ? {
                  activities: [{ ...change.activity, at: at.toISOString(), idempotencyKey: key }],
                }
              : {}),
          },
        },
        result: {
          status: 'applied',
          undo: Object.keys(previous).length > 0 ? { ...undo } : undefined,
          createdIds: change.activity
            ? [`${record.id}#activity-${record.activities.length}`]
            : undefined,
        },
      };
    });
  }

  /** Restores the fields an applied action set; at most once per key (`<key>:undo`). */
  async undo(
    tenant: TenantId,
    key: string,
    target: { objectType: string; recordId: string },
    undo: EmbeddedUndo,
  ): Promise<ExecuteResult> {
    await this.failIfAsked();
    const undoKey = `${key}:undo`;
    return this.changeRecord(tenant, target, async (record) => {
      if (record.appliedActions.includes(undoKey)) return { result: { status: 'already-applied' } };
      if (!record.appliedActions.includes(key))
        throw ConnectorError.permanent(
          'NOT_APPLIED',
          `action ${key} was never applied to ${target.recordId}`,
        );
      const fields = { ...record.fields };
      for (const [k, v] of Object.entries(undo.previous ?? {})) {
        if (v === null) delete fields[k];
        else fields[k] = v;
      }
      return {
        update: {
          set: { fields, modstamp: this.nextModstamp(), updatedAt: this.now() },
          push: { appliedActions: [undoKey] },
        },
        result: { status: 'applied' },
      };
    });
  }

  /**
   * Read the target, let `step` decide, write what it decided with the version it read (the
   * applied key goes in the same write); a concurrent change re-reads, five times at most.
   */
  private async changeRecord(
    tenant: TenantId,
    target: { objectType: string; recordId: string },
    step: (
      record: Versioned<CrmRecordDoc>,
    ) => Promise<{ result: ExecuteResult; update?: UpdateSpec<CrmRecordDoc> }>,
  ): Promise<ExecuteResult> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const record = await this.guard(() => this.records.get(tenant, target.recordId));
      if (!record || record.objectType !== target.objectType)
        throw ConnectorError.permanent(
          'RECORD_NOT_FOUND',
          `no ${target.objectType} ${target.recordId}`,
        );
      const { result, update } = await step(record);
      if (!update) return result;
      try {
        await this.guard(() =>
          this.records.update(tenant, record.id, update, { expectVersion: record.version }),
        );
        return result;
      } catch (err) {
        if (!(err instanceof ConcurrencyError)) throw err;
      }
    }
    throw ConnectorError.retryable('CONTENTION', `record ${target.recordId} kept changing`);
  }

  /**
   * The polling change feed: records changed after `cursor` (`<modstamp>:<id>`), oldest first.
   * Reports every field as changed (the store keeps the latest state, not a diff).
   */
  async changes(tenant: TenantId, cursor: string | undefined, limit: number): Promise<ChangePage> {
    await this.failIfAsked();
    const [stamp, afterId] = parseCursor(cursor);
    const slack = 100;
    const docs = await this.guard(() =>
      this.records.find(
        tenant,
        { modstamp: { $gte: stamp } },
        { sort: { modstamp: 1 }, limit: limit + slack + 1 },
      ),
    );
    const after = docs.filter(
      (d) => d.modstamp > stamp || (d.modstamp === stamp && d.id > afterId),
    );
    const page = after.slice(0, limit);
    const last = page[page.length - 1];
    return {
      changes: page.map((d) => ({
        target: { objectType: d.objectType, recordId: d.id },
        change: d.version === 1 ? 'created' : 'updated',
        changedFields: Object.keys(d.fields),
        snapshot: d.fields,
        occurredAt: d.updatedAt,
        sourceId: `${d.id}@${d.modstamp}`,
      })),
      nextCursor: last ? `${last.modstamp}:${last.id}` : (cursor ?? '0:'),
      hasMore: after.length > limit,
    };
  }

  /** Makes the next `times` CRM calls fail as `fault` says (conformance checks, chaos drills). */
  simulateFault(fault: EmbeddedFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  private async failIfAsked(): Promise<void> {
    const fault = this.faults.shift();
    if (!fault) return;
    switch (fault.kind) {
      case 'rate-limit':
        throw ConnectorError.retryable(
          'RATE_LIMITED',
          'the embedded CRM is throttling this tenant',
          {
            retryAfterMs: fault.retryAfterSeconds * 1000,
            httpStatus: 429,
          },
        );
      case 'server-error':
        throw ConnectorError.retryable('UNAVAILABLE', 'the embedded CRM is unavailable', {
          httpStatus: 503,
        });
      case 'auth-expired':
        throw ConnectorError.authExpired(
          'SESSION_EXPIRED',
          'the embedded CRM session has expired',
          { httpStatus: 401 },
        );
      case 'validation':
        throw ConnectorError.permanent(
          'VALIDATION_FAILED',
          'the embedded CRM rejected the field values',
          { httpStatus: 400 },
        );
    }
  }

  /** Storage outages are the CRM being unavailable: retryable. */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StorageUnavailableError)
        throw ConnectorError.retryable('STORAGE_UNAVAILABLE', err.message, { cause: err });
      throw err;
    }
  }

  private async assertConsent(
    tenant: TenantId,
    target: CrmRecordDoc,
    toContactId: string,
  ): Promise<void> {
    const recipient =
      toContactId && toContactId !== target.id
        ? await this.records.get(tenant, toContactId)
        : target;
    if (!recipient || (recipient.objectType !== 'contact' && recipient.objectType !== 'lead'))
      throw ConnectorError.permanent(
        'RECIPIENT_NOT_FOUND',
        'the email recipient is not a contact or lead',
      );
    if (recipient.fields['emailConsent'] !== true || recipient.fields['optedOut'] !== false)
      throw ConnectorError.permanent(
        'NO_CONSENT',
        'the recipient has not consented to email or has opted out',
      );
  }

  private nextModstamp(): number {
    this.lastModstamp = Math.max(this.lastModstamp + 1, this.now().getTime() * 1000);
    return this.lastModstamp;
  }

  private changeEvent(
    tenant: TenantId,
    objectType: string,
    id: string,
    change: 'created' | 'updated',
    changedFields: string[],
    snapshot: Record<string, unknown>,
    at: Date,
    modstamp: number,
    correlationId?: string,
  ): CrmChangeEvent {
    const eventId = createHash('sha256')
      .update(
        change === 'created'
          ? `${tenant}/${objectType}/${id}/created`
          : `${tenant}/${objectType}/${id}/${modstamp}`,
      )
      .digest('hex')
      .slice(0, 32);
    return CrmChangeEvent.fromPartial({
      eventId,
      tenantId: tenant,
      correlationId: correlationId || eventId,
      sourceSystem: 'embedded',
      objectType,
      recordId: id,
      changeType:
        change === 'created' ? ChangeType.CHANGE_TYPE_CREATED : ChangeType.CHANGE_TYPE_UPDATED,
      changedFields: [...changedFields].sort(),
      snapshot,
      occurredAt: at.toISOString(),
      cursor: `${modstamp}:${id}`,
    });
  }
}

/** A user edit lost five optimistic-concurrency races in a row (HTTP 409). */
export class CrmContentionError extends Error {
  override readonly name = 'CrmContentionError';
}

export class CrmRecordNotFoundError extends Error {
  override readonly name = 'CrmRecordNotFoundError';
}

function parseCursor(cursor: string | undefined): [number, string] {
  if (!cursor) return [0, ''];
  const at = cursor.indexOf(':');
  const stamp = Number(cursor.slice(0, at));
  if (at < 0 || !Number.isSafeInteger(stamp) || stamp < 0)
    throw ConnectorError.permanent('INVALID_CURSOR', 'change-feed cursor is not <modstamp>:<id>');
  return [stamp, cursor.slice(at + 1)];
}

function assertObjectType(objectType: string): void {
  if (!(OBJECT_TYPES as readonly string[]).includes(objectType))
    throw new CrmInputError(
      `unknown object type "${objectType}" (expected one of ${OBJECT_TYPES.join(', ')})`,
    );
}

function assertRecordId(id: string): void {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new CrmInputError('record id must be 1-64 letters, digits, "-" or "_"');
}

function assertFields(fields: Record<string, unknown>): void {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
    throw new CrmInputError('fields must be an object');
  const entries = Object.entries(fields);
  if (entries.length > MAX_FIELDS) throw new CrmInputError(`at most ${MAX_FIELDS} fields`);
  for (const [k, v] of entries) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(k))
      throw new CrmInputError(
        `field name "${k.slice(0, 64)}" must be a letter then letters, digits or "_"`,
      );
    const ok =
      v === null ||
      typeof v === 'boolean' ||
      (typeof v === 'number' && Number.isFinite(v)) ||
      (typeof v === 'string' && v.length <= MAX_VALUE_LENGTH);
    if (!ok)
      throw new CrmInputError(
        `field "${k}" must be a string (≤ ${MAX_VALUE_LENGTH} chars), a finite number, a boolean or null`,
      );
  }
}
