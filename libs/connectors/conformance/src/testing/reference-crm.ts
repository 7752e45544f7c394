/**
 * The reference connector: the smallest complete example of what a connector team writes for the
 * conformance kit, and the kit's own test subject (`conformance.spec.ts` switches on one of the
 * `ReferenceDefects` at a time and proves that exactly the check about that defect fails).
 *
 * It has the three parts every connector has:
 *
 * 1. `ReferenceCrm`: an in-memory stand-in for a vendor's REST API ("TicketDesk": one object, the
 *    ticket). In a real connector this is the CRM's sandbox or a local server reproducing its
 *    API. The adapter only sees API calls and their HTTP-like errors (`CrmApiError`); the harness
 *    also uses its back office (create, edit, inspect records; inject faults; count writes).
 * 2. `ReferenceAdapter`: the `ConnectorAdapter`. It turns canonical actions into API calls, the
 *    API's errors into the `ConnectorError` taxonomy, keeps what compensation needs, and reads the
 *    CRM's change log as a polling change feed.
 * 3. `referenceHarness`: the `ConformanceHarness` the kit drives, with one sample per action.
 *
 * Read it top to bottom; the comments say why each part is the way it is.
 */
import { randomUUID } from 'node:crypto';
import { CrmAction, actionTypeOf } from '@mandate/contracts';
import {
  ConnectorError,
  classifyHttpError,
  findOrderComparator,
  matchesFindConditions,
  objectSpec,
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
  type RecordTarget,
} from '@mandate/connector-sdk';
import type { ConformanceHarness, InjectedFault } from '../harness';

// ---------------------------------------------------------------------------------------------
// 1. The CRM ("TicketDesk"): not adapter code. It stands for the vendor's API.
// ---------------------------------------------------------------------------------------------

/** The fields a TicketDesk ticket has (its schema). */
export const TICKET_FIELDS = ['status', 'priority', 'requester_email'] as const;

/**
 * A failed API call, as an HTTP client reports it: the status, the CRM's own error code and the
 * response headers (a 429 carries `retry-after`). Adapters map these to `ConnectorError`s.
 */
export class CrmApiError extends Error {
  override readonly name = 'CrmApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** A ticket as the API returns it. */
export interface TicketView {
  readonly id: string;
  /** Increases with every write: the API's optimistic-concurrency token (`If-Match`). */
  readonly version: number;
  readonly fields: Readonly<Record<string, unknown>>;
  /**
   * Idempotency keys of the writes applied to this ticket. TicketDesk keeps them on the record
   * (as many CRMs can, in a custom field): this is what makes CRM-side idempotency possible.
   */
  readonly appliedKeys: readonly string[];
}

/** One entry of TicketDesk's change log; `seq` grows by one with every change. */
export interface CrmChange {
  readonly seq: number;
  readonly ticketId: string;
  readonly kind: 'created' | 'updated';
  readonly changedFields: readonly string[];
  /** The ticket's fields after the change. */
  readonly snapshot: Readonly<Record<string, unknown>>;
  readonly at: Date;
}

export interface TicketPatch {
  /** Fields to set; null removes a field. */
  readonly set: Readonly<Record<string, unknown>>;
  /** Refuse with 412 unless the ticket is still at this version (`If-Match`). */
  readonly ifVersion?: number;
  /** Apply at most once per key (`Idempotency-Key`): a known key changes nothing. */
  readonly idempotencyKey?: string;
}

interface Ticket {
  fields: Record<string, unknown>;
  version: number;
  appliedKeys: string[];
}

export class ReferenceCrm {
  private readonly tickets = new Map<string, Ticket>();
  private readonly log: CrmChange[] = [];
  private readonly faults: InjectedFault[] = [];
  private writes = 0;
  private lastId = 0;

  // --- The API: what the adapter calls. Every call may fail with an injected fault. ----------

  /** GET /tickets/:id?fields=…: only the requested fields when `fields` is given, else all. */
  async getTicket(id: string, fields?: readonly string[]): Promise<TicketView> {
    this.failIfAsked();
    const ticket = this.ticket(id);
    const selected: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(ticket.fields))
      if (!fields || fields.includes(k)) selected[k] = v;
    return {
      id,
      version: ticket.version,
      fields: selected,
      appliedKeys: [...ticket.appliedKeys],
    };
  }

  /** PATCH /tickets/:id: sets fields, honouring `If-Match` and `Idempotency-Key`. */
  async patchTicket(
    id: string,
    patch: TicketPatch,
  ): Promise<{ readonly version: number; readonly duplicate: boolean }> {
    this.failIfAsked();
    const ticket = this.ticket(id);
    // The key first: a retry of a write that was applied is answered as a duplicate, even though
    // the version has moved on since (its own write moved it).
    if (patch.idempotencyKey !== undefined && ticket.appliedKeys.includes(patch.idempotencyKey))
      return { version: ticket.version, duplicate: true };
    if (patch.ifVersion !== undefined && patch.ifVersion !== ticket.version)
      throw new CrmApiError(412, 'PRECONDITION_FAILED', `ticket ${id} has changed`);
    assertKnownFields(patch.set);
    this.write(id, ticket, patch.set);
    if (patch.idempotencyKey !== undefined) ticket.appliedKeys.push(patch.idempotencyKey);
    return { version: ticket.version, duplicate: false };
  }

  /**
   * GET /tickets?field=value&after=<id>&limit=…: tickets whose fields equal the values, in id
   * order, after `afterId`. Like many CRMs' search it compares case-insensitively.
   */
  async searchTickets(
    equals: Readonly<Record<string, string>>,
    afterId: string | undefined,
    limit: number,
  ): Promise<{ readonly tickets: readonly TicketView[]; readonly more: boolean }> {
    this.failIfAsked();
    const found: TicketView[] = [];
    for (const [id, t] of [...this.tickets.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (afterId !== undefined && id <= afterId) continue;
      const matches = Object.entries(equals).every(
        ([k, v]) =>
          t.fields[k] !== undefined &&
          t.fields[k] !== null &&
          String(t.fields[k]).toLowerCase() === v.toLowerCase(),
      );
      if (matches)
        found.push({
          id,
          version: t.version,
          fields: { ...t.fields },
          appliedKeys: [...t.appliedKeys],
        });
    }
    return { tickets: found.slice(0, limit), more: found.length > limit };
  }

  /** GET /changes?after=<seq>&limit=…: the change log after `afterSeq`, oldest first. */
  async listChanges(
    afterSeq: number,
    limit: number,
  ): Promise<{ readonly changes: readonly CrmChange[]; readonly more: boolean }> {
    this.failIfAsked();
    const after = this.log.filter((c) => c.seq > afterSeq);
    return { changes: after.slice(0, limit), more: after.length > limit };
  }

  // --- The back office: what the harness does behind the adapter's back. Never faulted. ------

  /** A user creates a ticket; returns its id. */
  create(fields: Readonly<Record<string, unknown>>): string {
    assertKnownFields(fields);
    const id = `TCK-${String(++this.lastId).padStart(4, '0')}`;
    const ticket: Ticket = { fields: {}, version: 0, appliedKeys: [] };
    this.tickets.set(id, ticket);
    this.write(id, ticket, fields);
    return id;
  }

  /** A user edits a ticket. */
  edit(id: string, fields: Readonly<Record<string, unknown>>): void {
    assertKnownFields(fields);
    this.write(id, this.ticket(id), fields);
  }

  /** The ticket's fields as stored, or undefined. */
  inspect(id: string): Record<string, unknown> | undefined {
    const ticket = this.tickets.get(id);
    return ticket ? { ...ticket.fields } : undefined;
  }

  /** Writes accepted so far (creates, edits, patches). */
  get writeCount(): number {
    return this.writes;
  }

  /** The next `times` API calls fail with `fault`. */
  injectFault(fault: InjectedFault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  private ticket(id: string): Ticket {
    const ticket = this.tickets.get(id);
    if (!ticket) throw new CrmApiError(404, 'NOT_FOUND', `no ticket ${id}`);
    return ticket;
  }

  /** One write: fields, version and change log move together (one atomic step in a real CRM). */
  private write(id: string, ticket: Ticket, set: Readonly<Record<string, unknown>>): void {
    for (const [k, v] of Object.entries(set)) {
      if (v === null) delete ticket.fields[k];
      else ticket.fields[k] = v;
    }
    ticket.version++;
    this.writes++;
    this.log.push({
      seq: this.log.length + 1,
      ticketId: id,
      kind: ticket.version === 1 ? 'created' : 'updated',
      changedFields: Object.keys(set),
      snapshot: { ...ticket.fields },
      at: new Date(),
    });
  }

  /** Injected faults look exactly like the vendor's error answers. */
  private failIfAsked(): void {
    const fault = this.faults.shift();
    if (!fault) return;
    switch (fault.kind) {
      case 'rate-limit':
        throw new CrmApiError(429, 'RATE_LIMITED', 'too many requests', {
          'retry-after': String(fault.retryAfterSeconds),
        });
      case 'server-error':
        throw new CrmApiError(503, 'UNAVAILABLE', 'TicketDesk is unavailable');
      case 'auth-expired':
        throw new CrmApiError(401, 'INVALID_SESSION', 'the session has expired');
      case 'validation':
        throw new CrmApiError(400, 'FIELD_VALIDATION', 'a validation rule rejected the values');
    }
  }
}

function assertKnownFields(fields: Readonly<Record<string, unknown>>): void {
  for (const k of Object.keys(fields))
    if (!(TICKET_FIELDS as readonly string[]).includes(k))
      throw new CrmApiError(400, 'UNKNOWN_FIELD', `tickets have no field "${k}"`);
}

// ---------------------------------------------------------------------------------------------
// 2. The adapter: what a connector team writes.
// ---------------------------------------------------------------------------------------------

/**
 * What the adapter declares. Every field is classified (redaction and read policy depend on it),
 * action types are canonical ones, both actions can be undone, changes are polled, and the CRM
 * deduplicates by idempotency key (applied keys on the ticket), so `crmSideIdempotency` is true.
 */
export const REFERENCE_CAPABILITIES: ConnectorCapabilities = {
  connector: 'reference',
  objects: [
    {
      objectType: 'ticket',
      fields: [
        { name: 'status', classification: 'internal', writable: true },
        { name: 'priority', classification: 'internal', writable: true },
        { name: 'requester_email', classification: 'personal' },
      ],
    },
  ],
  actions: ['update_field', 'close_case'],
  reversibleActions: ['update_field', 'close_case'],
  changeFeed: 'polling',
  crmSideIdempotency: true,
  rateLimit: { requestsPerSecond: 10, burst: 20 },
};

/**
 * Bugs the reference adapter can be told to have, one per conformance check, so the kit's own
 * tests can prove each check catches its bug. All off by default (`idempotent` on).
 */
export interface ReferenceDefects {
  /** false: ignores the CRM's applied keys (yet still declares CRM-side idempotency). */
  readonly idempotent?: boolean;
  /** Maps a 429 to a retryable error but drops its Retry-After. */
  readonly dropRetryAfter?: boolean;
  /** Reads whole tickets instead of the requested fields. */
  readonly readsAllFields?: boolean;
  /** Returns each change-feed page newest first. */
  readonly reorderChanges?: boolean;
  /** Derives a change's source id from the read, not the change: re-reads look like new changes. */
  readonly unstableSourceIds?: boolean;
  /** Keeps the values the action wrote as "previous" values: compensation restores nothing. */
  readonly brokenUndo?: boolean;
  /** Maps a validation error (400) to retryable: it would be retried forever instead of reported. */
  readonly validationAsRetryable?: boolean;
  /** Trusts TicketDesk's case-insensitive search: `find` returns values that are not equal. */
  readonly trustsSearchCase?: boolean;
}

/** What `execute` hands back for compensation: JSON only, stored by the executor. */
interface ReferenceUndo {
  /** The values the action overwrote (null: the field was absent). */
  readonly previous: Record<string, unknown>;
  /** The values the action wrote: compensation refuses if someone changed them since. */
  readonly applied: Record<string, unknown>;
}

/** TicketDesk cursor: `<seq>:<ticket id>` of the last change handed out. */
const CURSOR = /^(\d+):([A-Za-z0-9-]*)$/;

export class ReferenceAdapter implements ConnectorAdapter {
  /** Counts polls, only to build the deliberately unstable source ids of `unstableSourceIds`. */
  private polls = 0;

  constructor(
    private readonly crm: ReferenceCrm,
    private readonly tenantId: string,
    private readonly defects: ReferenceDefects = {},
    readonly capabilities: ConnectorCapabilities = REFERENCE_CAPABILITIES,
  ) {}

  /**
   * Applies an action at most once per idempotency key:
   * 1. read the ticket (the fields the action writes, and its applied keys);
   * 2. a key the CRM has already applied: `already-applied`, nothing written. This must come
   *    before the concurrency check: after our own write, the ticket no longer holds the value
   *    the agent saw, and a retry would otherwise be refused as a conflict;
   * 3. optimistic concurrency: the ticket must still hold the value the agent saw (`conflict`);
   * 4. write with `If-Match` (a change between 1 and 4 is a 412, mapped to `conflict`) and the
   *    key, which the CRM records in the same write;
   * 5. return the overwritten values as undo information.
   */
  async execute(request: ExecuteRequest, _ctx: CallContext): Promise<ExecuteResult> {
    const id = this.ticketId(request.tenantId, request.target);
    const change = this.plan(request.action);
    const useKeys = this.defects.idempotent !== false;
    const ticket = await this.api(() => this.crm.getTicket(id, Object.keys(change.set)));
    if (useKeys && ticket.appliedKeys.includes(request.idempotencyKey))
      return { status: 'already-applied' };
    for (const [field, seen] of Object.entries(change.expect ?? {}))
      if (render(ticket.fields[field]) !== seen)
        throw ConnectorError.conflict(
          'STALE_VALUE',
          `ticket ${id}: ${field} has changed since the agent read it`,
        );
    const previous: Record<string, unknown> = {};
    for (const field of Object.keys(change.set)) previous[field] = ticket.fields[field] ?? null;
    const written = await this.api(() =>
      this.crm.patchTicket(id, {
        set: change.set,
        ifVersion: ticket.version,
        idempotencyKey: useKeys ? request.idempotencyKey : undefined,
      }),
    );
    if (written.duplicate) return { status: 'already-applied' };
    const undo: ReferenceUndo = {
      previous: this.defects.brokenUndo ? { ...change.set } : previous,
      applied: { ...change.set },
    };
    return { status: 'applied', undo: { ...undo }, detail: `ticket ${id} v${written.version}` };
  }

  /** Only the requested fields (the API's field selection), null for a ticket that is not there. */
  async read(request: ReadRequest, _ctx: CallContext): Promise<RecordData | null> {
    const id = this.ticketId(request.tenantId, request.target);
    try {
      const ticket = await this.api(() =>
        this.crm.getTicket(id, this.defects.readsAllFields ? undefined : request.fields),
      );
      return { target: request.target, fields: ticket.fields };
    } catch (err) {
      // A missing record is an answer for `read`, not an error; every other failure propagates.
      if (err instanceof ConnectorError && err.httpStatus === 404) return null;
      throw err;
    }
  }

  /**
   * Optional, and implemented here: the tickets whose fields equal the conditions. The SDK has
   * checked the request against the capabilities already. TicketDesk's search compares
   * case-insensitively and knows no order, so the adapter re-checks every ticket with the SDK's
   * reference semantics (exact strings) and orders with the SDK's comparator, paging until it has
   * `limit + 1` matches (with an order: all of them), which also tells whether there are more.
   */
  async find(request: FindRequest, _ctx: CallContext): Promise<FindResult> {
    this.assertTenant(request.tenantId);
    if (request.objectType !== 'ticket')
      throw ConnectorError.permanent(
        'UNSUPPORTED_OBJECT',
        `TicketDesk has no "${request.objectType}" objects`,
      );
    const matches: TicketView[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.api(() => this.crm.searchTickets(request.equals, after, 100));
      for (const t of page.tickets)
        if (this.defects.trustsSearchCase || matchesFindConditions(t.fields, request.equals))
          matches.push(t);
      if (!page.more || (!request.orderBy && matches.length > request.limit)) break;
      after = page.tickets[page.tickets.length - 1].id;
    }
    matches.sort(
      findOrderComparator(
        request.orderBy,
        (t) => t.fields,
        (t) => t.id,
      ),
    );
    return {
      records: matches.slice(0, request.limit).map((t) => ({
        target: { objectType: 'ticket', recordId: t.id },
        fields: Object.fromEntries(
          request.fields.filter((f) => f in t.fields).map((f) => [f, t.fields[f]]),
        ),
      })),
      truncated: matches.length > request.limit,
    };
  }

  /**
   * The change log after the cursor, oldest first. The cursor is `<seq>:<ticket id>` of the last
   * change handed out (the id only makes it readable in logs); the source id is derived from the
   * change itself (`<ticket id>@<seq>`), so a page read twice yields the same ids and downstream
   * deduplication makes the re-read harmless.
   */
  async pollChanges(
    tenant: string,
    cursor: string | undefined,
    limit: number,
    _ctx: CallContext,
  ): Promise<ChangePage> {
    this.assertTenant(tenant);
    const afterSeq = parseCursor(cursor);
    const page = await this.api(() => this.crm.listChanges(afterSeq, limit));
    const poll = ++this.polls;
    const changes: ChangeRecord[] = page.changes.map((c) => ({
      target: { objectType: 'ticket', recordId: c.ticketId },
      change: c.kind,
      changedFields: [...c.changedFields],
      snapshot: { ...c.snapshot },
      occurredAt: c.at,
      sourceId: this.defects.unstableSourceIds
        ? `${c.ticketId}@poll-${poll}`
        : `${c.ticketId}@${c.seq}`,
    }));
    if (this.defects.reorderChanges) changes.reverse();
    const last = page.changes[page.changes.length - 1];
    return {
      changes,
      nextCursor: last ? `${last.seq}:${last.ticketId}` : (cursor ?? '0:'),
      hasMore: page.more,
    };
  }

  /**
   * Restores the overwritten values, at most once (key `<key>:undo`), and only if the ticket
   * still holds what the action wrote: undoing over a user's later edit would destroy it.
   */
  async compensate(request: CompensateRequest, _ctx: CallContext): Promise<ExecuteResult> {
    const id = this.ticketId(request.tenantId, request.target);
    const undo = parseUndo(request.undo);
    const undoKey = `${request.idempotencyKey}:undo`;
    const ticket = await this.api(() => this.crm.getTicket(id, Object.keys(undo.applied)));
    if (ticket.appliedKeys.includes(undoKey)) return { status: 'already-applied' };
    for (const [field, value] of Object.entries(undo.applied))
      if ((ticket.fields[field] ?? null) !== value)
        throw ConnectorError.conflict(
          'CHANGED_SINCE',
          `ticket ${id}: ${field} was changed after the action; not undoing over it`,
        );
    const written = await this.api(() =>
      this.crm.patchTicket(id, {
        set: undo.previous,
        ifVersion: ticket.version,
        idempotencyKey: undoKey,
      }),
    );
    return { status: written.duplicate ? 'already-applied' : 'applied' };
  }

  /** Canonical action → the fields to write and the values the agent saw (to check first). */
  private plan(action: CrmAction): {
    set: Record<string, unknown>;
    expect?: Record<string, string>;
  } {
    const kind = action.kind;
    switch (kind?.$case) {
      case 'updateField': {
        const { field, value, previousValue } = kind.value;
        const spec = objectSpec(this.capabilities, 'ticket')?.fields.find((f) => f.name === field);
        if (!spec?.writable)
          throw ConnectorError.permanent('FIELD_NOT_WRITABLE', `ticket.${field} is not writable`);
        // An empty previous value means the agent did not say what it saw: nothing to check.
        return {
          set: { [field]: value },
          expect: previousValue === '' ? undefined : { [field]: previousValue },
        };
      }
      case 'closeCase':
        return { set: { status: 'closed' } };
      default:
        throw ConnectorError.permanent(
          'UNSUPPORTED_ACTION',
          `TicketDesk cannot execute ${actionTypeOf(action) ?? 'an action without a kind'}`,
        );
    }
  }

  /**
   * Every API call goes through here: TicketDesk's errors become the taxonomy. The SDK's
   * `classifyHttpError` does the HTTP part (401 → auth-expired, 409/412 → conflict, 429/5xx →
   * retryable with Retry-After, other 4xx → permanent); anything that is not an API error
   * propagates unchanged (the SDK treats unclassified errors as retryable).
   */
  private async api<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (!(err instanceof CrmApiError)) throw err;
      if (this.defects.validationAsRetryable && err.status === 400)
        throw ConnectorError.retryable(err.code, err.message, {
          httpStatus: err.status,
          cause: err,
        });
      const retryAfter = this.defects.dropRetryAfter ? undefined : err.headers['retry-after'];
      const mapped = classifyHttpError(err.status, err.code, err.message, retryAfter);
      throw new ConnectorError(mapped.kind, mapped.code, mapped.message, {
        retryAfterMs: mapped.retryAfterMs,
        httpStatus: mapped.httpStatus,
        cause: err,
      });
    }
  }

  private ticketId(tenant: string, target: RecordTarget): string {
    this.assertTenant(tenant);
    if (target.objectType !== 'ticket')
      throw ConnectorError.permanent(
        'UNSUPPORTED_OBJECT',
        `TicketDesk has no "${target.objectType}" objects`,
      );
    return target.recordId;
  }

  /** One adapter instance serves one tenant (its credentials, its limits). */
  private assertTenant(tenant: string): void {
    if (tenant !== this.tenantId)
      throw ConnectorError.permanent(
        'TENANT_MISMATCH',
        `this adapter serves tenant ${this.tenantId}, not ${tenant}`,
      );
  }
}

/** Values as update_field renders them (strings; absent is ""). */
function render(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

function parseCursor(cursor: string | undefined): number {
  if (cursor === undefined) return 0;
  const m = CURSOR.exec(cursor);
  if (!m)
    throw ConnectorError.permanent('INVALID_CURSOR', 'change-feed cursor is not <seq>:<ticket id>');
  return Number(m[1]);
}

/** Undo information comes back from storage: check its shape instead of trusting it. */
function parseUndo(raw: Readonly<Record<string, unknown>>): ReferenceUndo {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(raw['previous']) || !isObject(raw['applied']))
    throw ConnectorError.permanent('INVALID_UNDO', 'undo information is not {previous, applied}');
  return { previous: raw['previous'], applied: raw['applied'] };
}

// ---------------------------------------------------------------------------------------------
// 3. The harness: what the conformance kit drives.
// ---------------------------------------------------------------------------------------------

export interface ReferenceHarnessOptions extends ReferenceDefects {
  /** Declares these capabilities instead (to feed the structural checks a bad declaration). */
  readonly capabilities?: ConnectorCapabilities;
}

const action = (kind: CrmAction['kind']) => CrmAction.fromPartial({ kind } as Partial<CrmAction>);

/** A fresh TicketDesk and a reference adapter on it, for one conformance check. */
export async function referenceHarness(
  options: ReferenceHarnessOptions = {},
): Promise<ConformanceHarness> {
  const { capabilities = REFERENCE_CAPABILITIES, ...defects } = options;
  const crm = new ReferenceCrm();
  const tenantId = `reference-${randomUUID().slice(0, 8)}`;
  const adapter = () => new ReferenceAdapter(crm, tenantId, defects, capabilities);
  const assertTicket = (objectType: string) => {
    if (objectType !== 'ticket') throw new Error(`TicketDesk has no "${objectType}" objects`);
  };
  return {
    tenantId,
    adapter: adapter(),
    // A restarted connector: a new adapter (no state carried over) on the same CRM.
    restartAdapter: async () => adapter(),
    seed: async (objectType, fields) => {
      assertTicket(objectType);
      return crm.create(fields);
    },
    inspect: async (objectType, recordId) => {
      assertTicket(objectType);
      return crm.inspect(recordId);
    },
    touch: async (objectType, recordId, fields) => {
      assertTicket(objectType);
      crm.edit(recordId, fields);
    },
    writeCount: async () => crm.writeCount,
    injectFault: (fault, times) => crm.injectFault(fault, times),
    samples: [
      // First, because several checks use the first sample: closing has no concurrency check,
      // so a second application of the same key is visible as a second write.
      {
        objectType: 'ticket',
        seed: { status: 'open', priority: 'high', requester_email: 'ada@example.com' },
        action: action({
          $case: 'closeCase',
          value: { resolutionCode: 'RESOLVED', summary: 'answered by the agent' },
        }),
        applied: (f) => f['status'] === 'closed',
      },
      {
        objectType: 'ticket',
        seed: { status: 'open', priority: 'normal', requester_email: 'alan@example.com' },
        action: action({
          $case: 'updateField',
          value: { field: 'priority', value: 'high', previousValue: 'normal' },
        }),
        conflicting: action({
          $case: 'updateField',
          value: { field: 'priority', value: 'high', previousValue: 'low' },
        }),
        applied: (f) => f['priority'] === 'high',
      },
    ],
    close: async () => undefined,
  };
}
