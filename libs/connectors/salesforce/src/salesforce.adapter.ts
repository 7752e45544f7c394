import {
  ConnectorError,
  FIELD_NOT_FILTERABLE,
  FIELD_NOT_SORTABLE,
  FieldMappingError,
  matchesFindConditions,
  type CallContext,
  type ChangePage,
  type ChangeRecord,
  type CompensateRequest,
  type ConnectorAdapter,
  type ConnectorCapabilities,
  type ExecuteRequest,
  type ExecuteResult,
  type FindRequest,
  type FindResult,
  type ReadRequest,
  type RecordData,
  type UndoInfo,
} from '@mandate/connector-sdk';
import {
  TASK_KEY_FIELD,
  crmValuesMatch,
  planAction,
  renderedMatch,
  type ActionPlan,
  type CreateSpec,
} from './actions';
import {
  changeQuery,
  decodeCursor,
  encodeCursor,
  mergeByStamp,
  type ChangeRow,
  type ObjectPosition,
} from './change-cursor';
import { SalesforceClient, type HttpMethod } from './client';
import {
  SALESFORCE_DEFAULTS,
  SalesforceConfigError,
  salesforceConfigProblems,
  type SalesforceConfig,
} from './config';
import { findSoql, soqlLiteral } from './find-query';
import { externalKey, isSalesforceId, sobjectOfId } from './ids';
import {
  DEFAULT_SALESFORCE_MAPPING,
  SalesforceMapping,
  fieldSpec,
  salesforceCapabilities,
} from './mapping';
import { classifySalesforceError, parseSalesforceErrors } from './salesforce-errors';
import { parseSfDateTime } from './sf-dates';

/**
 * The custom object that records applied idempotency keys in the org (README, "Org setup").
 * `Idempotency_Key__c` is a unique, case-sensitive external id: a second insert of a key fails
 * with DUPLICATE_VALUE and, inside an all-or-none composite request, rolls back everything else.
 */
export const ACTION_OBJECT = 'Mandate_Action__c';
export const ACTION_FIELDS = {
  key: 'Idempotency_Key__c',
  actionType: 'Action_Type__c',
  targetObject: 'Target_Object__c',
  targetId: 'Target_Id__c',
  undo: 'Undo_Json__c',
} as const;

/** `undo` as this adapter writes it (JSON, stored by the executor and in Mandate_Action__c). */
export interface SalesforceUndo {
  readonly v: 1;
  readonly actionType: string;
  readonly crmObject: string;
  readonly recordId: string;
  /** Salesforce field → value before the action. */
  readonly previous: Readonly<Record<string, unknown>>;
  /** Salesforce field → value the action wrote. */
  readonly written: Readonly<Record<string, unknown>>;
}

interface CompositeSubrequest {
  readonly method: HttpMethod;
  readonly url: string;
  readonly referenceId: string;
  readonly body?: unknown;
  readonly httpHeaders?: Record<string, string>;
}

interface CompositeSubresponse {
  readonly body: unknown;
  readonly httpHeaders?: Record<string, string>;
  readonly httpStatusCode: number;
  readonly referenceId: string;
}

type CommitOutcome =
  | { readonly kind: 'committed'; readonly responses: readonly CompositeSubresponse[] }
  /** The Mandate_Action__c insert hit DUPLICATE_VALUE: someone applied the key meanwhile. */
  | { readonly kind: 'duplicate-key' }
  /** If-Unmodified-Since failed: the record changed after we read it. */
  | { readonly kind: 'record-changed' };

interface ActionMarker {
  readonly Id: string;
  readonly [field: string]: unknown;
}

const MARKER_REF = 'mandateAction';
const TARGET_REF = 'target';
const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Most rows one `find` reads while re-checking case-insensitive SOQL matches (one query batch). */
const MAX_FIND_ROWS = 2000;

/**
 * Mandate's Salesforce connector (REST API, OAuth refresh-token sessions). One instance per
 * tenant/org.
 *
 * - execute: checks the org's Mandate_Action__c for the key (found → `already-applied`), reads
 *   the target (previous values for undo, optimistic-concurrency checks), then one `/composite`
 *   request with `allOrNone: true` inserts the Mandate_Action__c row and writes the target
 *   (`If-Unmodified-Since` its LastModifiedDate) and any created Task/CaseComment. Either all
 *   of it commits or none, so a key is applied at most once even across crashes, restarts and
 *   concurrent duplicates.
 * - read: `GET /sobjects/{Obj}/{id}?fields=...` with only the requested fields.
 * - find: one SOQL query with typed, escaped literals (`findSoql`), rows re-checked exactly.
 * - pollChanges: SystemModstamp polling with a per-object (SystemModstamp, Id) cursor.
 * - compensate: restores the previous values, idempotent under the key `${key}:undo`.
 */
export class SalesforceAdapter implements ConnectorAdapter {
  readonly capabilities: ConnectorCapabilities;
  readonly mapping: SalesforceMapping;
  private readonly client: SalesforceClient;
  private readonly settings: Required<
    Pick<
      SalesforceConfig,
      | 'apiVersion'
      | 'requestTimeoutMs'
      | 'rateLimitRetryAfterMs'
      | 'pollLagSeconds'
      | 'minorUnitDigits'
      | 'leadQualifiedStatus'
      | 'leadDisqualifiedStatus'
      | 'caseClosedStatus'
    >
  >;

  constructor(
    private readonly config: SalesforceConfig,
    private readonly now: () => Date = () => new Date(),
  ) {
    const problems = salesforceConfigProblems(config);
    if (problems.length) throw new SalesforceConfigError(problems);
    this.settings = {
      apiVersion: config.apiVersion ?? SALESFORCE_DEFAULTS.apiVersion,
      requestTimeoutMs: config.requestTimeoutMs ?? SALESFORCE_DEFAULTS.requestTimeoutMs,
      rateLimitRetryAfterMs:
        config.rateLimitRetryAfterMs ?? SALESFORCE_DEFAULTS.rateLimitRetryAfterMs,
      pollLagSeconds: config.pollLagSeconds ?? SALESFORCE_DEFAULTS.pollLagSeconds,
      minorUnitDigits: config.minorUnitDigits ?? SALESFORCE_DEFAULTS.minorUnitDigits,
      leadQualifiedStatus: config.leadQualifiedStatus ?? SALESFORCE_DEFAULTS.leadQualifiedStatus,
      leadDisqualifiedStatus:
        config.leadDisqualifiedStatus ?? SALESFORCE_DEFAULTS.leadDisqualifiedStatus,
      caseClosedStatus: config.caseClosedStatus ?? SALESFORCE_DEFAULTS.caseClosedStatus,
    };
    try {
      this.mapping = new SalesforceMapping(config.fieldMapping, this.settings.minorUnitDigits);
    } catch (err) {
      if (err instanceof FieldMappingError) throw new SalesforceConfigError([err.message]);
      throw err;
    }
    this.capabilities = salesforceCapabilities(this.mapping);
    this.client = new SalesforceClient({
      loginUrl: config.loginUrl,
      instanceUrl: config.instanceUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      refreshToken: config.refreshToken,
      accessToken: config.accessToken,
      apiVersion: this.settings.apiVersion,
      requestTimeoutMs: this.settings.requestTimeoutMs,
      rateLimitRetryAfterMs: this.settings.rateLimitRetryAfterMs,
      onRefreshTokenRotated: config.onRefreshTokenRotated,
    });
  }

  /** Daily API usage from the last Sforce-Limit-Info header, when seen. */
  apiUsage(): { used: number; limit: number } | undefined {
    return this.client.apiUsage;
  }

  async execute(request: ExecuteRequest, ctx: CallContext): Promise<ExecuteResult> {
    this.checkTenant(request.tenantId);
    const { objectType } = request.target;
    const crmObject = this.mapping.crmObject(objectType);
    const recordId = this.recordId(request.target.recordId);
    const key = externalKey(request.idempotencyKey);
    const plan = planAction(request.action, {
      objectType,
      crmObject,
      recordId,
      externalKey: key,
      mapping: this.mapping,
      leadQualifiedStatus: this.settings.leadQualifiedStatus,
      leadDisqualifiedStatus: this.settings.leadDisqualifiedStatus,
      caseClosedStatus: this.settings.caseClosedStatus,
      now: this.now,
    });

    const applied = await this.findMarker(key, ctx);
    if (applied) return this.alreadyApplied(applied, plan, key, ctx);

    const current = await this.readRecord(crmObject, recordId, plan.read, ctx);
    for (const check of plan.checks) {
      const actual = this.mapping.render(objectType, check.field, current[check.crmField]);
      if (!renderedMatch(actual, check.expected))
        return this.conflictUnlessApplied(
          key,
          plan,
          ctx,
          ConnectorError.conflict(
            check.code,
            `${crmObject}.${check.crmField} no longer holds the value the agent saw`,
          ),
        );
    }
    if (plan.recipientId) await this.checkRecipient(plan.recipientId, objectType, recordId, ctx);

    const written = plan.set;
    const undo: SalesforceUndo | undefined =
      plan.reversible && Object.keys(written).length
        ? {
            v: 1,
            actionType: plan.actionType,
            crmObject,
            recordId,
            previous: Object.fromEntries(
              Object.keys(written).map((f) => [f, current[f] === undefined ? null : current[f]]),
            ),
            written,
          }
        : undefined;
    const creates = plan.creates(current);
    const subrequests: CompositeSubrequest[] = [
      this.markerInsert(key, plan.actionType, crmObject, recordId, undo),
    ];
    if (Object.keys(written).length)
      subrequests.push(this.targetPatch(crmObject, recordId, written, current));
    subrequests.push(...creates.map((c) => this.createSubrequest(c)));

    const outcome = await this.commit(subrequests, ctx);
    if (outcome.kind === 'duplicate-key') return this.appliedMeanwhile(key, plan, ctx);
    if (outcome.kind === 'record-changed')
      return this.conflictUnlessApplied(
        key,
        plan,
        ctx,
        ConnectorError.conflict(
          'RECORD_CHANGED',
          `${crmObject} changed while the action was applied`,
        ),
      );
    const createdIds = outcome.responses
      .filter((r) => creates.some((c) => c.referenceId === r.referenceId))
      .map((r) => (r.body as { id?: unknown } | null)?.id)
      .filter((id): id is string => typeof id === 'string');
    return {
      status: 'applied',
      ...(undo ? { undo: undo as unknown as UndoInfo } : {}),
      ...(createdIds.length ? { createdIds } : {}),
      detail: `${plan.actionType} applied to ${crmObject}`,
    };
  }

  async read(request: ReadRequest, ctx: CallContext): Promise<RecordData | null> {
    this.checkTenant(request.tenantId);
    const { objectType, recordId } = request.target;
    const crmObject = this.mapping.crmObject(objectType);
    const crmFields = [...new Set(request.fields)].map((f) => ({
      field: f,
      crm: this.mapping.crmField(objectType, f),
    }));
    // Not a Salesforce id: no such record can exist (and it never goes into a URL).
    if (!isSalesforceId(recordId)) return null;
    let record: Record<string, unknown>;
    try {
      record = await this.readRecord(
        crmObject,
        recordId,
        crmFields.map((f) => f.crm),
        ctx,
        false,
      );
    } catch (err) {
      if (
        err instanceof ConnectorError &&
        (err.code === 'NOT_FOUND' || err.code === 'ENTITY_IS_DELETED')
      )
        return null;
      throw err;
    }
    const fields: Record<string, unknown> = {};
    for (const { field, crm } of crmFields) {
      const value = this.mapping.fromCrmValue(objectType, field, record[crm]);
      if (value !== null) fields[field] = value;
    }
    return { target: request.target, fields };
  }

  /**
   * `SELECT Id, <fields> FROM Obj WHERE F = literal AND ... ORDER BY F ASC|DESC NULLS LAST, Id ASC
   * LIMIT limit+1` through jsforce. Literals follow the canonical field's kind (quoted and escaped
   * text; numbers, booleans, dates unquoted; minor units as major units); a value no field of
   * that kind can hold matches nothing and sends no query. SOQL compares text case-insensitively,
   * so each row is re-checked with the SDK's exact semantics; when that drops rows, the query is
   * repeated with a larger LIMIT (up to 2000 rows, beyond which the answer says `truncated`).
   * Long text areas (Description) can be neither filtered nor ordered by in SOQL: refused.
   */
  async find(request: FindRequest, ctx: CallContext): Promise<FindResult> {
    this.checkTenant(request.tenantId);
    const { objectType } = request;
    const sobject = this.mapping.crmObject(objectType);
    // A long text area of the default mapping, unless the tenant maps the name elsewhere.
    const unqueryable = (field: string) =>
      fieldSpec(objectType, field).queryable === false &&
      this.mapping.crmField(objectType, field) ===
        DEFAULT_SALESFORCE_MAPPING[objectType]?.fields[field];
    const where: Array<[string, string]> = [];
    for (const [field, value] of Object.entries(request.equals)) {
      const spec = fieldSpec(objectType, field);
      if (unqueryable(field))
        throw ConnectorError.permanent(
          FIELD_NOT_FILTERABLE,
          `Salesforce cannot filter ${objectType} by ${field} (a long text area)`,
        );
      const literal = soqlLiteral(spec.kind ?? 'string', value, this.settings.minorUnitDigits);
      if (literal === undefined) return { records: [], truncated: false };
      where.push([this.mapping.crmField(objectType, field), literal]);
    }
    const order = request.orderBy;
    if (order && unqueryable(order.field))
      throw ConnectorError.permanent(
        FIELD_NOT_SORTABLE,
        `Salesforce cannot order ${objectType} by ${order.field} (a long text area)`,
      );
    const conditionFields = Object.keys(request.equals);
    const read = [...new Set([...request.fields, ...conditionFields])];
    const canonical = (row: Readonly<Record<string, unknown>>, fields: readonly string[]) => {
      const out: Record<string, unknown> = {};
      for (const f of fields) {
        const value = this.mapping.fromCrmValue(
          objectType,
          f,
          row[this.mapping.crmField(objectType, f)],
        );
        if (value !== null) out[f] = value;
      }
      return out;
    };
    let rowsWanted = request.limit + 1;
    for (;;) {
      const soql = findSoql({
        sobject,
        select: read.map((f) => this.mapping.crmField(objectType, f)),
        where,
        orderBy: order && {
          field: this.mapping.crmField(objectType, order.field),
          descending: order.descending,
        },
        limit: rowsWanted,
      });
      const res = await this.client.query(soql, rowsWanted, `query ${sobject}`, ctx.signal);
      const rows = res.body.records.slice(0, rowsWanted);
      if (rows.some((r) => typeof r['Id'] !== 'string'))
        throw ConnectorError.retryable(
          'QUERY_MALFORMED',
          `Salesforce returned a ${sobject} row without Id`,
        );
      const matched = rows.filter((r) =>
        matchesFindConditions(canonical(r, conditionFields), request.equals),
      );
      const complete = rows.length < rowsWanted;
      if (complete || matched.length > request.limit || rowsWanted >= MAX_FIND_ROWS)
        return {
          records: matched.slice(0, request.limit).map((r) => ({
            target: { objectType, recordId: r['Id'] as string },
            fields: canonical(r, request.fields),
          })),
          truncated: matched.length > request.limit || !complete,
        };
      rowsWanted = Math.min(rowsWanted * 4, MAX_FIND_ROWS);
    }
  }

  async compensate(request: CompensateRequest, ctx: CallContext): Promise<ExecuteResult> {
    this.checkTenant(request.tenantId);
    const crmObject = this.mapping.crmObject(request.target.objectType);
    const recordId = this.recordId(request.target.recordId);
    const undo = parseUndo(request.undo);
    if (undo.crmObject !== crmObject || undo.recordId !== recordId)
      throw ConnectorError.permanent('INVALID_UNDO', 'the undo information is for another record');
    const key = externalKey(`${request.idempotencyKey}:undo`);
    const plan: Pick<ActionPlan, 'actionType' | 'creates'> = {
      actionType: `undo:${undo.actionType}`,
      creates: () => [],
    };
    if (await this.findMarker(key, ctx))
      return {
        status: 'already-applied',
        detail: `${undo.actionType} already undone in Salesforce`,
      };

    const fields = Object.keys(undo.written);
    const current = await this.readRecord(crmObject, recordId, fields, ctx);
    // Someone changed what we wrote since: restoring would overwrite their change.
    const changed = fields.filter((f) => !crmValuesMatch(current[f], undo.written[f]));
    if (changed.length)
      return this.conflictUnlessApplied(
        key,
        plan,
        ctx,
        ConnectorError.conflict(
          'CHANGED_SINCE_EXECUTION',
          `${crmObject} ${changed.join(', ')} changed since the action; not overwritten`,
        ),
      );
    const outcome = await this.commit(
      [
        this.markerInsert(key, plan.actionType, crmObject, recordId, undefined),
        this.targetPatch(crmObject, recordId, undo.previous, current),
      ],
      ctx,
    );
    if (outcome.kind === 'duplicate-key') return this.appliedMeanwhile(key, plan, ctx);
    if (outcome.kind === 'record-changed')
      return this.conflictUnlessApplied(
        key,
        plan,
        ctx,
        ConnectorError.conflict(
          'RECORD_CHANGED',
          `${crmObject} changed while it was being restored`,
        ),
      );
    return { status: 'applied', detail: `${undo.actionType} undone on ${crmObject}` };
  }

  async pollChanges(
    tenantId: string,
    cursor: string | undefined,
    limit: number,
    ctx: CallContext,
  ): Promise<ChangePage> {
    this.checkTenant(tenantId);
    const n = Math.max(1, Math.min(Math.floor(limit) || 1, 2000));
    const positions = decodeCursor(cursor);
    const objectTypes = this.mapping.objectTypes();
    const sobjects = objectTypes.map((t) => this.mapping.crmObject(t));
    // One row more than the page per object: tells whether it has more right now.
    const results = await Promise.all(
      objectTypes.map((t, i) =>
        this.queryChanges(t, sobjects[i], positions[sobjects[i]], n + 1, ctx),
      ),
    );
    const lagMs = this.settings.pollLagSeconds * 1000;
    const horizon = lagMs > 0 ? Math.min(...results.map((r) => r.serverTimeMs)) - lagMs : Infinity;
    const available = results.map((r) => {
      const rows: ChangeRow[] = [];
      for (const row of r.rows) {
        if (row.stampMs > horizon) break;
        rows.push(row);
      }
      return rows;
    });
    const taken = mergeByStamp(available, n);
    const next: Record<string, ObjectPosition> = { ...positions };
    const takenPer = new Map<string, number>();
    const changes: ChangeRecord[] = taken.map((row) => {
      const i = sobjects.indexOf(row.sobject);
      const id = String(row.record['Id']);
      const stamp = String(row.record['SystemModstamp']);
      next[row.sobject] = { stamp, id };
      takenPer.set(row.sobject, (takenPer.get(row.sobject) ?? 0) + 1);
      const created = parseSfDateTime(row.record['CreatedDate']) === row.stampMs;
      return {
        target: { objectType: objectTypes[i], recordId: id },
        change: created ? 'created' : 'updated',
        // Polling cannot tell which fields changed: every mapped field is reported.
        changedFields: this.mapping.canonicalFields(objectTypes[i]),
        snapshot: this.mapping.fromCrm(objectTypes[i], row.record, { omitNull: false }),
        occurredAt: new Date(row.stampMs),
        sourceId: `${row.sobject}/${id}/${stamp}`,
      };
    });
    const hasMore = available.some((rows, i) => rows.length > (takenPer.get(sobjects[i]) ?? 0));
    return { changes, nextCursor: encodeCursor(next, sobjects), hasMore };
  }

  async close(): Promise<void> {
    // Nothing to release: jsforce's fetch (node-fetch) uses Node's process-wide http(s) agents.
  }

  // --- internals -------------------------------------------------------------------------

  private checkTenant(tenantId: string): void {
    if (tenantId !== this.config.tenantId)
      throw ConnectorError.permanent(
        'WRONG_TENANT',
        'this Salesforce connector serves another tenant',
      );
  }

  private recordId(id: string): string {
    if (!isSalesforceId(id))
      throw ConnectorError.permanent('MALFORMED_ID', 'the record id is not a Salesforce id');
    return id;
  }

  /** GET /sobjects/{Obj}/{id}?fields=... (only those fields, LastModifiedDate for writes). */
  private async readRecord(
    sobject: string,
    id: string,
    fields: readonly string[],
    ctx: CallContext,
    forWrite = true,
  ): Promise<Record<string, unknown>> {
    const list = [...new Set([...(forWrite ? ['Id', 'LastModifiedDate'] : []), ...fields])];
    if (!list.length) list.push('Id');
    const res = await this.client.retrieve(sobject, id, list, ctx.signal);
    return res.body ?? {};
  }

  /** The Mandate_Action__c row of a key, or undefined. */
  private async findMarker(key: string, ctx: CallContext): Promise<ActionMarker | undefined> {
    try {
      const res = await this.client.request<ActionMarker>(
        'GET',
        `/sobjects/${ACTION_OBJECT}/${ACTION_FIELDS.key}/${encodeURIComponent(key)}?fields=Id,${ACTION_FIELDS.undo}`,
        `GET ${ACTION_OBJECT}`,
        { signal: ctx.signal },
      );
      return res.body;
    } catch (err) {
      if (err instanceof ConnectorError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
  }

  private async alreadyApplied(
    marker: ActionMarker,
    plan: Pick<ActionPlan, 'actionType' | 'creates'>,
    key: string,
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    let undo: UndoInfo | undefined;
    const raw = marker[ACTION_FIELDS.undo];
    if (typeof raw === 'string' && raw) {
      try {
        undo = JSON.parse(raw) as UndoInfo;
      } catch {
        undo = undefined; // an edited row: the execution stands, its undo is lost
      }
    }
    // A Task created under this key: its id, found by its external id. (Which records an
    // action creates does not depend on the target's fields, so an empty record is enough to ask.)
    let createdIds: string[] | undefined;
    if (plan.creates({}).some((c) => c.sobject === 'Task')) {
      try {
        const res = await this.client.request<{ Id?: string }>(
          'GET',
          `/sobjects/Task/${TASK_KEY_FIELD}/${encodeURIComponent(key)}?fields=Id`,
          'GET Task',
          { signal: ctx.signal },
        );
        if (typeof res.body?.Id === 'string') createdIds = [res.body.Id];
      } catch (err) {
        if (!(err instanceof ConnectorError && err.code === 'NOT_FOUND')) throw err;
      }
    }
    return {
      status: 'already-applied',
      ...(undo ? { undo } : {}),
      ...(createdIds ? { createdIds } : {}),
      detail: `${plan.actionType}: the idempotency key is already applied in Salesforce`,
    };
  }

  /** DUPLICATE_VALUE on our key: a concurrent execution committed it first. */
  private async appliedMeanwhile(
    key: string,
    plan: Pick<ActionPlan, 'actionType' | 'creates'>,
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    const marker = await this.findMarker(key, ctx);
    if (marker) return this.alreadyApplied(marker, plan, key, ctx);
    throw ConnectorError.retryable(
      'IDEMPOTENCY_RACE',
      'a concurrent execution of the same key was in flight; retry to learn its outcome',
    );
  }

  /**
   * A conflict — unless the key was applied meanwhile by a concurrent duplicate (whose write is
   * exactly why the record no longer matches): then it is `already-applied`.
   */
  private async conflictUnlessApplied(
    key: string,
    plan: Pick<ActionPlan, 'actionType' | 'creates'>,
    ctx: CallContext,
    conflict: ConnectorError,
  ): Promise<ExecuteResult> {
    const marker = await this.findMarker(key, ctx);
    if (marker) return this.alreadyApplied(marker, plan, key, ctx);
    throw conflict;
  }

  private async checkRecipient(
    recipientId: string,
    objectType: string,
    recordId: string,
    ctx: CallContext,
  ): Promise<void> {
    const recipientType =
      recipientId === recordId
        ? objectType
        : this.mapping
            .objectTypes()
            .find((t) => this.mapping.crmObject(t) === sobjectOfId(recipientId));
    if (!recipientType || !['Lead', 'Contact'].includes(this.mapping.crmObject(recipientType)))
      throw ConnectorError.permanent(
        'INVALID_RECIPIENT',
        'the email recipient is not a contact or lead',
      );
    const fields = this.mapping.canonicalFields(recipientType);
    const wanted = ['optedOut', 'emailConsent'].filter((f) => fields.includes(f));
    let record: Record<string, unknown>;
    try {
      record = await this.readRecord(
        this.mapping.crmObject(recipientType),
        recipientId,
        wanted.map((f) => this.mapping.crmField(recipientType, f)),
        ctx,
        false,
      );
    } catch (err) {
      if (
        err instanceof ConnectorError &&
        (err.code === 'NOT_FOUND' || err.code === 'ENTITY_IS_DELETED')
      )
        throw ConnectorError.permanent('RECIPIENT_NOT_FOUND', 'the email recipient does not exist');
      throw err;
    }
    const value = (f: string) =>
      wanted.includes(f) ? record[this.mapping.crmField(recipientType, f)] : undefined;
    if (value('optedOut') === true)
      throw ConnectorError.permanent('EMAIL_OPTED_OUT', 'the recipient opted out of email');
    if (value('emailConsent') === false)
      throw ConnectorError.permanent(
        'NO_EMAIL_CONSENT',
        'the recipient has not consented to email',
      );
  }

  private markerInsert(
    key: string,
    actionType: string,
    crmObject: string,
    recordId: string,
    undo: SalesforceUndo | undefined,
  ): CompositeSubrequest {
    return {
      method: 'POST',
      url: `${this.client.apiPath}/sobjects/${ACTION_OBJECT}`,
      referenceId: MARKER_REF,
      body: {
        [ACTION_FIELDS.key]: key,
        [ACTION_FIELDS.actionType]: actionType,
        [ACTION_FIELDS.targetObject]: crmObject,
        [ACTION_FIELDS.targetId]: recordId,
        [ACTION_FIELDS.undo]: undo ? JSON.stringify(undo) : null,
      },
    };
  }

  /** PATCH of the target, refused (412) if it changed after we read it. */
  private targetPatch(
    crmObject: string,
    recordId: string,
    set: Readonly<Record<string, unknown>>,
    current: Readonly<Record<string, unknown>>,
  ): CompositeSubrequest {
    const readAt = parseSfDateTime(current['LastModifiedDate']);
    return {
      method: 'PATCH',
      url: `${this.client.apiPath}/sobjects/${crmObject}/${recordId}`,
      referenceId: TARGET_REF,
      body: set,
      ...(readAt !== undefined
        ? { httpHeaders: { 'If-Unmodified-Since': new Date(readAt).toUTCString() } }
        : {}),
    };
  }

  private createSubrequest(c: CreateSpec): CompositeSubrequest {
    return c.upsertKey
      ? {
          method: 'PATCH',
          url: `${this.client.apiPath}/sobjects/${c.sobject}/${TASK_KEY_FIELD}/${encodeURIComponent(c.upsertKey)}`,
          referenceId: c.referenceId,
          body: c.body,
        }
      : {
          method: 'POST',
          url: `${this.client.apiPath}/sobjects/${c.sobject}`,
          referenceId: c.referenceId,
          body: c.body,
        };
  }

  /** One all-or-none composite request; failures classified from the subrequest that caused them. */
  private async commit(
    subrequests: CompositeSubrequest[],
    ctx: CallContext,
  ): Promise<CommitOutcome> {
    const res = await this.client.request<{ compositeResponse?: CompositeSubresponse[] }>(
      'POST',
      '/composite',
      'composite',
      { body: { allOrNone: true, compositeRequest: subrequests }, signal: ctx.signal },
    );
    const responses = res.body?.compositeResponse;
    if (!Array.isArray(responses) || responses.length !== subrequests.length)
      throw ConnectorError.retryable(
        'COMPOSITE_MALFORMED',
        'Salesforce answered the composite request without its results',
      );
    if (responses.every((r) => r.httpStatusCode >= 200 && r.httpStatusCode < 300))
      return { kind: 'committed', responses };
    // The cause is the subrequest whose errors are not PROCESSING_HALTED (the rolled-back rest).
    const cause = responses.find((r) => {
      if (r.httpStatusCode < 300) return false;
      const errors = parseSalesforceErrors(r.body);
      return !errors.length || errors.some((e) => e.errorCode !== 'PROCESSING_HALTED');
    });
    if (!cause)
      throw ConnectorError.retryable(
        'COMPOSITE_ROLLED_BACK',
        'Salesforce rolled the composite request back',
      );
    const errors = parseSalesforceErrors(cause.body);
    if (cause.referenceId === MARKER_REF && errors.some((e) => e.errorCode === 'DUPLICATE_VALUE'))
      return { kind: 'duplicate-key' };
    if (cause.referenceId === TARGET_REF && cause.httpStatusCode === 412)
      return { kind: 'record-changed' };
    const sub = subrequests.find((s) => s.referenceId === cause.referenceId);
    const sobject = /\/sobjects\/([A-Za-z0-9_]+)/.exec(sub?.url ?? '')?.[1] ?? 'record';
    throw classifySalesforceError(cause.httpStatusCode, errors, {
      operation: `${sub?.method ?? 'composite'} ${sobject}`,
      rateLimitRetryAfterMs: this.settings.rateLimitRetryAfterMs,
      retryAfterHeader: headerOf(cause.httpHeaders, 'retry-after'),
    });
  }

  private async queryChanges(
    objectType: string,
    sobject: string,
    after: ObjectPosition | undefined,
    limit: number,
    ctx: CallContext,
  ): Promise<{ rows: ChangeRow[]; serverTimeMs: number }> {
    const soql = changeQuery(sobject, this.mapping.fields.allCrmFields(objectType), after, limit);
    const res = await this.client.query(soql, limit, `query ${sobject}`, ctx.signal);
    const serverTimeMs = Date.parse(res.headers['date'] ?? '') || this.now().getTime();
    const rows: ChangeRow[] = [];
    for (const record of res.body.records) {
      const stampMs = parseSfDateTime(record['SystemModstamp']);
      if (stampMs === undefined || typeof record['Id'] !== 'string')
        throw ConnectorError.retryable(
          'QUERY_MALFORMED',
          `Salesforce returned a ${sobject} row without Id or SystemModstamp`,
        );
      rows.push({ sobject, stampMs, record });
    }
    return { rows: rows.slice(0, limit), serverTimeMs };
  }
}

function headerOf(headers: Record<string, string> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function parseUndo(raw: UndoInfo): SalesforceUndo {
  const u = raw as Partial<SalesforceUndo>;
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const ok =
    u.v === 1 &&
    typeof u.actionType === 'string' &&
    typeof u.crmObject === 'string' &&
    API_NAME.test(u.crmObject) &&
    typeof u.recordId === 'string' &&
    isSalesforceId(u.recordId) &&
    isObject(u.previous) &&
    isObject(u.written) &&
    Object.keys(u.written).length > 0 &&
    Object.keys(u.written).every((f) => API_NAME.test(f) && f in (u.previous as object));
  if (!ok)
    throw ConnectorError.permanent('INVALID_UNDO', 'the undo information is not from this adapter');
  return u as SalesforceUndo;
}
