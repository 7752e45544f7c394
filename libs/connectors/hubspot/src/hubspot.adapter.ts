import { AssociationTypes } from '@hubspot/api-client';
import type { CrmAction } from '@mandate/contracts';
import {
  ConnectorError,
  FIELD_NOT_FILTERABLE,
  FIELD_NOT_SORTABLE,
  matchesFindConditions,
  type CallContext,
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
  type RecordTarget,
  type UndoInfo,
  type WebhookRequest,
} from '@mandate/connector-sdk';
import {
  HubSpotApi,
  type HubSpotObject,
  type NewAssociation,
  type SearchFilter,
  type SearchQuery,
} from './hubspot.client';
import { effectiveFieldMapping, type HubSpotConfig } from './hubspot.config';
import {
  HubSpotSchema,
  IDEMPOTENCY_KEY_PROPERTY,
  LAST_ACTION_KEY_PROPERTY,
  RECENT_ACTION_KEYS_KEPT,
  RECENT_ACTION_KEYS_PROPERTY,
  hubspotCapabilities,
  sameCanonical,
} from './hubspot.mapping';
import {
  DEFAULT_WEBHOOK_MAX_AGE_MS,
  parseHubSpotEvents,
  verifyHubSpotSignature,
  webhookChanges,
} from './hubspot.webhook';

type ActionCase = NonNullable<CrmAction['kind']>['$case'];

/** Which canonical object types each action applies to. */
const ACTION_TARGETS: Readonly<Record<ActionCase, readonly string[] | '*'>> = {
  updateField: '*',
  qualifyLead: ['lead'],
  disqualifyLead: ['lead'],
  assignOwner: '*',
  createTask: '*',
  sendEmail: ['lead', 'contact'],
  applyDiscount: ['opportunity'],
  moveOpportunityStage: ['opportunity'],
  replyToCase: ['case'],
  closeCase: ['case'],
};

/** HubSpot's default association type ids (HUBSPOT_DEFINED) from an engagement to a record. */
const ENGAGEMENT_ASSOCIATIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  tasks: {
    contacts: AssociationTypes.taskToContact,
    companies: AssociationTypes.taskToCompany,
    deals: AssociationTypes.taskToDeal,
    tickets: AssociationTypes.taskToTicket,
  },
  emails: {
    contacts: AssociationTypes.emailToContact,
    companies: AssociationTypes.emailToCompany,
    deals: AssociationTypes.emailToDeal,
    tickets: AssociationTypes.emailToTicket,
  },
  notes: {
    contacts: AssociationTypes.noteToContact,
    companies: AssociationTypes.noteToCompany,
    deals: AssociationTypes.noteToDeal,
    tickets: AssociationTypes.noteToTicket,
  },
};

/** Primary association type ids, preferred when a record has several companies. */
const PRIMARY_COMPANY: Readonly<Record<string, number>> = {
  contacts: AssociationTypes.primaryContactToCompany,
  deals: AssociationTypes.primaryDealToCompany,
};

/** HubSpot only moves these forward; going back needs the value cleared first (compensation). */
const FORWARD_ONLY_PROPERTIES = new Set(['lifecyclestage']);

/** A field-setting action: what it sets, and the value it expects to find (optimistic check). */
interface FieldPlan {
  readonly set: Readonly<Record<string, unknown>>;
  readonly expect?: { readonly field: string; readonly value: string; readonly code: string };
}

/** The `undo` of a field-setting action. JSON only. */
interface FieldUndo {
  readonly kind: 'fields';
  /** Canonical values before the action (null: unset). */
  readonly previous: Record<string, unknown>;
  /** Canonical values the action wrote. */
  readonly applied: Record<string, unknown>;
}

const HUBSPOT_ID = /^\d{1,20}$/;

/** Largest page of the CRM search API. */
const SEARCH_PAGE_MAX = 200;
/**
 * Most objects one `find` reads from the search API while it drops what HubSpot matched but the
 * exact comparison does not (five full pages); beyond it the answer says `truncated`.
 */
const FIND_SCAN_BUDGET = 1000;
/** Canonical field kinds the search API cannot compare or order exactly. */
const NOT_FILTERABLE_KINDS = new Set(['full-name', 'money-minor']);
const NOT_SORTABLE_KINDS = new Set(['full-name', 'money-minor', 'company-association']);

/**
 * The HubSpot connector: CRM v3 objects through `@hubspot/api-client`, v4 associations, webhook
 * change feed (signature v3). One instance per tenant (portal). See the README for the object
 * and property mapping, the error table and what HubSpot can and cannot deduplicate.
 */
export class HubSpotAdapter implements ConnectorAdapter {
  readonly capabilities: ConnectorCapabilities;
  readonly schema: HubSpotSchema;
  private readonly api: HubSpotApi;
  readonly #webhookSecret: string;
  private readonly now: () => Date;
  private readonly recordLocks = new Map<string, Promise<void>>();
  /** The configuration without its secrets (they live in `#` fields only). */
  private readonly settings: Pick<
    HubSpotConfig,
    'tenantId' | 'portalId' | 'contactChangeObjectType' | 'ticketClosedStageId' | 'webhookMaxAgeMs'
  >;

  constructor(config: HubSpotConfig) {
    this.now = config.now ?? (() => new Date());
    this.schema = new HubSpotSchema(effectiveFieldMapping(config));
    this.capabilities = hubspotCapabilities(this.schema);
    this.#webhookSecret = config.webhookClientSecret;
    this.settings = {
      tenantId: config.tenantId,
      portalId: config.portalId,
      contactChangeObjectType: config.contactChangeObjectType,
      ticketClosedStageId: config.ticketClosedStageId,
      webhookMaxAgeMs: config.webhookMaxAgeMs,
    };
    this.api = new HubSpotApi({
      basePath: config.basePath ?? 'https://api.hubapi.com',
      accessToken: config.accessToken,
      oauth: config.oauth,
      onTokensRefreshed: config.onTokensRefreshed,
      now: this.now,
    });
  }

  /** OAuth refreshes made by this instance. */
  get refreshCount(): number {
    return this.api.refreshCount;
  }

  async read(request: ReadRequest, ctx: CallContext): Promise<RecordData | null> {
    const { objectType, recordId } = request.target;
    const apiObject = this.schema.apiObject(objectType);
    const specs = request.fields.map((f) => this.schema.field(objectType, f));
    if (!HUBSPOT_ID.test(recordId)) return null;
    const properties = this.schema.propertiesFor(objectType, request.fields);
    const o = await this.api.getObject(apiObject, recordId, properties, ctx);
    if (!o) return null;
    const fields = this.schema.fromHubSpot(objectType, o.properties, request.fields);
    if (specs.some((s) => s.kind === 'company-association')) {
      const company = await this.companyOf(apiObject, recordId, ctx);
      for (const s of specs)
        if (s.kind === 'company-association' && company !== undefined) fields[s.name] = company;
    }
    return { target: request.target, fields };
  }

  /**
   * The CRM search API (`POST /crm/v3/objects/{type}/search`): one filter group of `EQ` filters
   * (`accountId` through the `associations.company` pseudo-property), one sort, pages of up to
   * 200. HubSpot's `EQ` is not the SDK's exact comparison (text may match in another case,
   * numbers numerically), so every object is re-checked on its canonical values, paging on until
   * `limit + 1` matches (at most 1000 objects read, then `truncated`). `accountId` is the
   * primary company, as `read` reports it (one batch association read per page). Records without
   * a value for the order field come last: a first search has HAS_PROPERTY on it, a second
   * NOT_HAS_PROPERTY (by id). Ties keep HubSpot's order (one sort per search). Names (first +
   * last name) and amounts (currency-dependent digits) cannot be compared exactly: refused.
   */
  async find(request: FindRequest, ctx: CallContext): Promise<FindResult> {
    const { objectType } = request;
    const apiObject = this.schema.apiObject(objectType);
    const none: FindResult = { records: [], truncated: false };
    const filters: SearchFilter[] = [];
    for (const [field, value] of Object.entries(request.equals)) {
      const spec = this.schema.field(objectType, field);
      if (NOT_FILTERABLE_KINDS.has(spec.kind ?? 'string'))
        throw ConnectorError.permanent(
          FIELD_NOT_FILTERABLE,
          `HubSpot cannot compare ${objectType}.${field} exactly`,
        );
      if (spec.kind === 'company-association') {
        if (!HUBSPOT_ID.test(value)) return none;
        filters.push({ propertyName: 'associations.company', operator: 'EQ', value });
        continue;
      }
      // A value no property of this kind reads as: nothing can match, no request.
      if (
        spec.kind === 'number' &&
        !(/^-?\d+(\.\d+)?$/.test(value) && String(Number(value)) === value)
      )
        return none;
      if (spec.kind === 'boolean' && value !== 'true' && value !== 'false') return none;
      if (value === '') return none; // HubSpot holds no empty values: "" is an unset property
      filters.push({
        propertyName: this.schema.mapping.crmField(objectType, field),
        operator: 'EQ',
        value,
      });
    }
    const order = request.orderBy;
    if (
      order &&
      NOT_SORTABLE_KINDS.has(this.schema.field(objectType, order.field).kind ?? 'string')
    )
      throw ConnectorError.permanent(
        FIELD_NOT_SORTABLE,
        `HubSpot cannot order ${objectType} by ${order.field}`,
      );
    const conditionFields = Object.keys(request.equals);
    const read = [...new Set([...request.fields, ...conditionFields])];
    const companyFields = read.filter(
      (f) => this.schema.field(objectType, f).kind === 'company-association',
    );
    const byId = { propertyName: 'hs_object_id', direction: 'ASCENDING' } as const;
    const passes: Array<Pick<SearchQuery, 'filters' | 'sort'>> = [];
    if (order) {
      const prop = this.schema.mapping.crmField(objectType, order.field);
      passes.push(
        {
          filters: [...filters, { propertyName: prop, operator: 'HAS_PROPERTY' }],
          sort: { propertyName: prop, direction: order.descending ? 'DESCENDING' : 'ASCENDING' },
        },
        { filters: [...filters, { propertyName: prop, operator: 'NOT_HAS_PROPERTY' }], sort: byId },
      );
    } else passes.push({ filters, sort: byId });

    const wanted = request.limit + 1;
    // The first page is as large as the answer; when the re-check drops objects, full pages.
    let pageSize = Math.min(SEARCH_PAGE_MAX, wanted);
    const properties = this.schema.propertiesFor(objectType, read);
    const matched: Array<{ id: string; fields: Record<string, unknown> }> = [];
    let scanned = 0;
    let exhausted = true;
    search: for (const pass of passes) {
      let after: string | undefined;
      do {
        if (scanned >= FIND_SCAN_BUDGET) {
          exhausted = false;
          break search;
        }
        const page = await this.api.search(
          apiObject,
          { ...pass, properties, limit: pageSize, after },
          ctx,
        );
        scanned += page.results.length;
        const companies = companyFields.length
          ? await this.api.batchAssociations(
              apiObject,
              page.results.map((o) => o.id),
              'companies',
              ctx,
            )
          : undefined;
        for (const o of page.results) {
          const fields = this.schema.fromHubSpot(objectType, o.properties, read);
          const company = companies && primaryCompany(apiObject, companies.get(o.id) ?? []);
          if (company !== undefined) for (const f of companyFields) fields[f] = company;
          if (matchesFindConditions(fields, request.equals)) matched.push({ id: o.id, fields });
          if (matched.length >= wanted) break search;
        }
        after = page.after;
        pageSize = SEARCH_PAGE_MAX;
      } while (after !== undefined);
    }
    return {
      records: matched.slice(0, request.limit).map((m) => ({
        target: { objectType, recordId: m.id },
        fields: Object.fromEntries(
          request.fields.filter((f) => f in m.fields).map((f) => [f, m.fields[f]]),
        ),
      })),
      truncated: matched.length > request.limit || !exhausted,
    };
  }

  async execute(request: ExecuteRequest, ctx: CallContext): Promise<ExecuteResult> {
    const kind = request.action.kind;
    if (!kind) throw ConnectorError.permanent('UNKNOWN_ACTION', 'the action has no kind');
    const { objectType } = request.target;
    const targets = ACTION_TARGETS[kind.$case];
    if (targets !== '*' && !targets.includes(objectType))
      throw ConnectorError.permanent(
        'WRONG_OBJECT_TYPE',
        `${kind.$case} applies to ${targets.join(' or ')}, not ${objectType}`,
      );
    this.schema.apiObject(objectType); // UNMAPPED_OBJECT before any request
    switch (kind.$case) {
      case 'createTask':
        return this.createTask(request, kind.value, ctx);
      case 'sendEmail':
        return this.logEmail(request, kind.value, ctx);
      case 'replyToCase':
        return this.replyToCase(request, kind.value, ctx);
      default: {
        const plan = this.planFields(objectType, kind);
        return this.serialised(request.target, () => this.setFields(request, plan, ctx));
      }
    }
  }

  async compensate(request: CompensateRequest, ctx: CallContext): Promise<ExecuteResult> {
    return this.serialised(request.target, () => this.restoreFields(request, ctx));
  }

  private async restoreFields(
    request: CompensateRequest,
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    const undo = request.undo as Partial<FieldUndo>;
    if (
      undo?.kind !== 'fields' ||
      typeof undo.previous !== 'object' ||
      undo.previous === null ||
      typeof undo.applied !== 'object' ||
      undo.applied === null
    )
      throw ConnectorError.permanent(
        'NOT_REVERSIBLE',
        'the undo information is not from a HubSpot field-setting action',
      );
    const { objectType, recordId } = request.target;
    const apiObject = this.schema.apiObject(objectType);
    const fields = Object.keys(undo.previous);
    const read = this.withCurrency(objectType, fields);
    const current = await this.getRecord(objectType, recordId, read, [], ctx);
    const values = this.schema.fromHubSpot(objectType, current.properties, read);
    const restore: Record<string, unknown> = {};
    for (const field of fields) {
      const spec = this.schema.field(objectType, field);
      const now = values[field];
      const previous = undo.previous[field];
      const applied = undo.applied[field];
      if (same(spec.kind, now, previous)) continue;
      const halfRestored =
        now === undefined &&
        FORWARD_ONLY_PROPERTIES.has(this.schema.mapping.crmField(objectType, field));
      if (!same(spec.kind, now, applied) && !halfRestored)
        throw ConnectorError.conflict(
          'CHANGED_SINCE_ACTION',
          `${objectType}.${field} changed after the action; nothing was reverted`,
        );
      restore[field] = previous ?? null;
    }
    if (Object.keys(restore).length === 0)
      return { status: 'already-applied', detail: 'the previous values are already in place' };
    const props = this.schema.toHubSpot(objectType, restore, {
      currencyCode: stringOrUndefined(values['currencyCode']),
    });
    // HubSpot only moves a lifecycle stage forward: clear it before setting an earlier one.
    const clear: Record<string, string> = {};
    for (const [prop, value] of Object.entries(props))
      if (FORWARD_ONLY_PROPERTIES.has(prop) && value !== '' && current.properties[prop])
        clear[prop] = '';
    if (Object.keys(clear).length) await this.api.updateObject(apiObject, recordId, clear, ctx);
    await this.api.updateObject(apiObject, recordId, props, ctx);
    return { status: 'applied', detail: `restored ${Object.keys(restore).join(', ')}` };
  }

  async parseWebhook(request: WebhookRequest, _ctx: CallContext): Promise<readonly ChangeRecord[]> {
    verifyHubSpotSignature(
      request,
      this.#webhookSecret,
      this.settings.webhookMaxAgeMs ?? DEFAULT_WEBHOOK_MAX_AGE_MS,
    );
    return webhookChanges(parseHubSpotEvents(request.rawBody), {
      portalId: this.settings.portalId,
      schema: this.schema,
      contactObjectType: this.settings.contactChangeObjectType ?? 'lead',
    });
  }

  async close(): Promise<void> {
    // The client holds no pooled connections of its own (it uses the global fetch).
  }

  // --- field-setting actions -----------------------------------------------------------------

  private planFields(objectType: string, kind: NonNullable<CrmAction['kind']>): FieldPlan {
    switch (kind.$case) {
      case 'updateField': {
        const { field, value, previousValue } = kind.value;
        const spec = this.schema.field(objectType, field);
        if (!spec.writable)
          throw ConnectorError.permanent(
            'FIELD_NOT_WRITABLE',
            `field "${objectType}.${field}" cannot be written by agents`,
          );
        return {
          set: { [field]: value },
          // An empty previous_value means the agent did not see the field: no check.
          expect: previousValue ? { field, value: previousValue, code: 'STALE_VALUE' } : undefined,
        };
      }
      case 'qualifyLead': {
        const score = kind.value.score;
        if (!Number.isInteger(score) || score < 0 || score > 100)
          throw ConnectorError.permanent('INVALID_SCORE', `score ${score} is not within 0..100`);
        return { set: { lifecycleStage: 'salesqualifiedlead', score } };
      }
      case 'disqualifyLead':
        return { set: { status: 'UNQUALIFIED' } };
      case 'assignOwner': {
        const ownerId = kind.value.ownerId;
        if (!HUBSPOT_ID.test(ownerId))
          throw ConnectorError.permanent('INVALID_OWNER', 'owner id must be a HubSpot owner id');
        return { set: { ownerId } };
      }
      case 'applyDiscount': {
        const pct = kind.value.discountPercent;
        if (!(pct > 0 && pct <= 100))
          throw ConnectorError.permanent(
            'INVALID_DISCOUNT',
            `discount ${pct}% is not within (0, 100]`,
          );
        return { set: { discountPercent: pct } };
      }
      case 'moveOpportunityStage': {
        const { fromStage, toStage } = kind.value;
        if (!toStage) throw ConnectorError.permanent('INVALID_STAGE', 'to_stage is empty');
        return {
          set: { stage: toStage },
          expect: fromStage
            ? { field: 'stage', value: fromStage, code: 'STAGE_CONFLICT' }
            : undefined,
        };
      }
      case 'closeCase': {
        const set: Record<string, unknown> = {
          status: this.settings.ticketClosedStageId ?? '4',
        };
        if (kind.value.resolutionCode) set['resolutionCode'] = kind.value.resolutionCode;
        return { set };
      }
      default:
        throw ConnectorError.permanent('UNKNOWN_ACTION', `${kind.$case} does not set fields`);
    }
  }

  /**
   * Reads the fields an action sets (and the idempotency properties), then writes the new values
   * and the key in one PATCH. A key the record already holds: `already-applied`, nothing written.
   * A stale `previous_value` / `from_stage`: conflict, nothing written. HubSpot has no
   * conditional update, so the check and the write are two requests (README).
   */
  private async setFields(
    request: ExecuteRequest,
    plan: FieldPlan,
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    const { objectType, recordId } = request.target;
    const apiObject = this.schema.apiObject(objectType);
    const withCurrency = this.withCurrency(objectType, [
      ...Object.keys(plan.set),
      ...(plan.expect ? [plan.expect.field] : []),
    ]);
    const current = await this.getRecord(
      objectType,
      recordId,
      withCurrency,
      [LAST_ACTION_KEY_PROPERTY, RECENT_ACTION_KEYS_PROPERTY],
      ctx,
    );
    const applied = appliedKeys(current);
    if (applied.includes(request.idempotencyKey))
      return {
        status: 'already-applied',
        detail: `HubSpot ${apiObject} ${recordId} already holds this action's key`,
      };
    const values = this.schema.fromHubSpot(objectType, current.properties, withCurrency);
    if (plan.expect) {
      const spec = this.schema.field(objectType, plan.expect.field);
      if (!sameCanonical(spec.kind, values[plan.expect.field], plan.expect.value))
        throw ConnectorError.conflict(
          plan.expect.code,
          `${objectType}.${plan.expect.field} no longer holds the value the agent saw; nothing was written`,
        );
    }
    const props = this.schema.toHubSpot(objectType, plan.set, {
      currencyCode: stringOrUndefined(values['currencyCode']),
    });
    props[LAST_ACTION_KEY_PROPERTY] = request.idempotencyKey;
    props[RECENT_ACTION_KEYS_PROPERTY] = [request.idempotencyKey, ...applied]
      .slice(0, RECENT_ACTION_KEYS_KEPT)
      .join('\n');
    await this.api.updateObject(apiObject, recordId, props, ctx);
    const previous: Record<string, unknown> = {};
    for (const field of Object.keys(plan.set)) previous[field] = values[field] ?? null;
    const undo: FieldUndo = { kind: 'fields', previous, applied: { ...plan.set } };
    return {
      status: 'applied',
      undo: undo as unknown as UndoInfo,
      detail: `set ${Object.keys(plan.set).join(', ')} on HubSpot ${apiObject} ${recordId}`,
    };
  }

  // --- actions that create engagements -------------------------------------------------------

  /** create_task → a HubSpot task associated with the target record. */
  private async createTask(
    request: ExecuteRequest,
    task: Extract<CrmAction['kind'], { $case: 'createTask' }>['value'],
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    if (!task.subject) throw ConnectorError.permanent('INVALID_TASK', 'the task has no subject');
    const { objectType, recordId } = request.target;
    const apiObject = this.schema.apiObject(objectType);
    const target = await this.getRecord(objectType, recordId, [], ['hubspot_owner_id'], ctx);
    const owner = task.ownerId || target.properties['hubspot_owner_id'] || '';
    if (owner && !HUBSPOT_ID.test(owner))
      throw ConnectorError.permanent('INVALID_OWNER', 'owner id must be a HubSpot owner id');
    const dueAt = task.dueAt ? new Date(task.dueAt) : this.now();
    if (Number.isNaN(dueAt.getTime()))
      throw ConnectorError.permanent('INVALID_TASK', 'due_at is not a valid timestamp');
    const properties: Record<string, string> = {
      hs_task_subject: task.subject,
      hs_task_body: task.notes,
      hs_timestamp: dueAt.toISOString(),
      hs_task_status: 'NOT_STARTED',
      hs_task_type: 'TODO',
      [IDEMPOTENCY_KEY_PROPERTY]: request.idempotencyKey,
    };
    if (owner) properties['hubspot_owner_id'] = owner;
    return this.createEngagement(
      request,
      'tasks',
      properties,
      [this.association('tasks', apiObject, recordId)],
      ctx,
    );
  }

  /**
   * send_email → an email engagement logged on the recipient (and on the target record when it
   * is another one). The adapter does not deliver the email: delivery is HubSpot's (sequences,
   * workflows, the transactional email add-on), outside this connector. The recipient's opt-out
   * is checked at execution.
   */
  private async logEmail(
    request: ExecuteRequest,
    email: Extract<CrmAction['kind'], { $case: 'sendEmail' }>['value'],
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    const { objectType, recordId } = request.target;
    const recipientId = email.toContactId;
    if (!HUBSPOT_ID.test(recipientId))
      throw ConnectorError.permanent(
        'INVALID_RECIPIENT',
        'to_contact_id is not a HubSpot contact id',
      );
    const optOut = this.schema.mapping.crmField(objectType, 'optedOut');
    const recipient = await this.api.getObject('contacts', recipientId, [optOut], ctx);
    if (!recipient)
      throw ConnectorError.permanent('RECIPIENT_NOT_FOUND', 'the recipient contact does not exist');
    if (recipient.properties[optOut] === 'true')
      throw ConnectorError.permanent(
        'RECIPIENT_OPTED_OUT',
        'the recipient has unsubscribed from all email',
      );
    const apiObject = this.schema.apiObject(objectType);
    const associations = [this.association('emails', 'contacts', recipientId)];
    if (apiObject !== 'contacts' || recordId !== recipientId) {
      await this.getRecord(objectType, recordId, [], [], ctx);
      associations.push(this.association('emails', apiObject, recordId));
    }
    return this.createEngagement(
      request,
      'emails',
      {
        hs_timestamp: this.now().toISOString(),
        hs_email_direction: 'EMAIL',
        hs_email_subject: email.subject,
        hs_email_text: email.body,
        [IDEMPOTENCY_KEY_PROPERTY]: request.idempotencyKey,
      },
      associations,
      ctx,
    );
  }

  /**
   * reply_to_case → an internal note on the ticket. Public replies go through HubSpot's
   * conversations inbox (a thread linked to the ticket), which this connector does not drive:
   * they are refused rather than logged as if sent.
   */
  private async replyToCase(
    request: ExecuteRequest,
    reply: Extract<CrmAction['kind'], { $case: 'replyToCase' }>['value'],
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    if (reply.public)
      throw ConnectorError.permanent(
        'PUBLIC_REPLY_UNSUPPORTED',
        'public ticket replies go through HubSpot conversations, which this connector does not send',
      );
    if (!reply.body) throw ConnectorError.permanent('INVALID_REPLY', 'the reply has no body');
    const { objectType, recordId } = request.target;
    const apiObject = this.schema.apiObject(objectType);
    await this.getRecord(objectType, recordId, [], [], ctx);
    return this.createEngagement(
      request,
      'notes',
      {
        hs_timestamp: this.now().toISOString(),
        hs_note_body: reply.body,
        [IDEMPOTENCY_KEY_PROPERTY]: request.idempotencyKey,
      },
      [this.association('notes', apiObject, recordId)],
      ctx,
    );
  }

  /**
   * Creates an engagement with its associations in one request. Its `mandate_idempotency_key`
   * is a unique-value property: a second create with the key gets 409 from HubSpot, which means
   * the first one happened (`already-applied`; its id is looked up by the key, best effort: the
   * search index lags behind writes by a few seconds).
   */
  private async createEngagement(
    request: ExecuteRequest,
    engagement: 'tasks' | 'emails' | 'notes',
    properties: Record<string, string>,
    associations: NewAssociation[],
    ctx: CallContext,
  ): Promise<ExecuteResult> {
    try {
      const id = await this.api.createObject(engagement, properties, associations, ctx);
      return {
        status: 'applied',
        createdIds: [id],
        detail: `created HubSpot ${engagement} ${id}`,
      };
    } catch (err) {
      if (!(err instanceof ConnectorError && err.httpStatus === 409)) throw err;
      const existing = await this.api.findIdByProperty(
        engagement,
        IDEMPOTENCY_KEY_PROPERTY,
        request.idempotencyKey,
        ctx,
      );
      return {
        status: 'already-applied',
        createdIds: existing ? [existing] : undefined,
        detail: `HubSpot already has the ${engagement} object of this key`,
      };
    }
  }

  private association(engagement: string, toApiObject: string, toId: string): NewAssociation {
    const typeId = ENGAGEMENT_ASSOCIATIONS[engagement]?.[toApiObject];
    if (typeId === undefined)
      throw ConnectorError.permanent(
        'UNSUPPORTED_ASSOCIATION',
        `HubSpot ${engagement} cannot be associated with ${toApiObject} by default`,
      );
    return { toId, associationTypeId: typeId };
  }

  // --- helpers -------------------------------------------------------------------------------

  /**
   * Runs read-check-write sequences on one record one at a time in this instance: HubSpot has
   * no conditional update, so two concurrent ones could both pass the check, and the second
   * PATCH would drop the first one's key from `mandate_recent_action_keys`. Across connector
   * instances this is not guarded (README).
   */
  private async serialised<T>(target: RecordTarget, fn: () => Promise<T>): Promise<T> {
    const key = `${target.objectType}\u0000${target.recordId}`;
    const previous = this.recordLocks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.recordLocks.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.recordLocks.get(key) === settled) this.recordLocks.delete(key);
    }
  }

  /** The record's properties for these canonical fields plus `extra` properties; not found → permanent. */
  private async getRecord(
    objectType: string,
    recordId: string,
    fields: readonly string[],
    extra: readonly string[],
    ctx: CallContext,
  ): Promise<HubSpotObject> {
    const apiObject = this.schema.apiObject(objectType);
    const notFound = () =>
      ConnectorError.permanent(
        'OBJECT_NOT_FOUND',
        `HubSpot has no ${apiObject} record ${HUBSPOT_ID.test(recordId) ? recordId : '(invalid id)'}`,
      );
    if (!HUBSPOT_ID.test(recordId)) throw notFound();
    const properties = [...new Set([...this.schema.propertiesFor(objectType, fields), ...extra])];
    const o = await this.api.getObject(apiObject, recordId, properties, ctx);
    if (!o) throw notFound();
    return o;
  }

  /** The fields, plus `currencyCode` when `amountMinor` is among them (its digits depend on it). */
  private withCurrency(objectType: string, fields: readonly string[]): string[] {
    const out = [...new Set(fields)];
    const hasCurrency = this.schema.fields(objectType).some((s) => s.name === 'currencyCode');
    if (hasCurrency && out.includes('amountMinor') && !out.includes('currencyCode'))
      out.push('currencyCode');
    return out;
  }

  /** The associated company (primary first) of a contact or deal, via the v4 associations API. */
  private async companyOf(
    apiObject: string,
    recordId: string,
    ctx: CallContext,
  ): Promise<string | undefined> {
    return primaryCompany(
      apiObject,
      await this.api.associations(apiObject, recordId, 'companies', ctx),
    );
  }
}

/** The primary company among a contact's or deal's company links, else the first one. */
function primaryCompany(
  apiObject: string,
  links: ReadonlyArray<{ toId: string; typeIds: readonly number[] }>,
): string | undefined {
  const primary = PRIMARY_COMPANY[apiObject];
  return (links.find((l) => primary !== undefined && l.typeIds.includes(primary)) ?? links[0])
    ?.toId;
}

function appliedKeys(o: HubSpotObject): string[] {
  const keys = (o.properties[RECENT_ACTION_KEYS_PROPERTY] ?? '').split('\n').filter(Boolean);
  const last = o.properties[LAST_ACTION_KEY_PROPERTY];
  if (last && !keys.includes(last)) keys.unshift(last);
  return keys;
}

function stringOrUndefined(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** Canonical equality for compensation (absent and null are the same). */
function same(kind: Parameters<typeof sameCanonical>[0], a: unknown, b: unknown): boolean {
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  if (a === undefined || a === null || b === undefined || b === null) return false;
  return sameCanonical(kind, a, String(b));
}
