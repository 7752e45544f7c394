import type { CrmAction } from '@mandate/contracts';
import type { ConnectorCapabilities } from './capabilities';

/** A CRM record, by canonical object type and the CRM's own id. */
export interface RecordTarget {
  readonly objectType: string;
  readonly recordId: string;
}

/** Passed to every adapter call by the SDK. */
export interface CallContext {
  /** 1 for the first try; the SDK's retry loop increments it. */
  readonly attempt: number;
  /** Aborted when the service is stopping: stop waiting and throw. */
  readonly signal?: AbortSignal;
}

export interface ExecuteRequest {
  readonly tenantId: string;
  /**
   * At most one effect per key. Adapters whose CRM can deduplicate (external-id upsert, a field
   * or table of applied keys) must use it: `execute` with a key the CRM has already applied
   * returns `already-applied` and changes nothing.
   */
  readonly idempotencyKey: string;
  readonly target: RecordTarget;
  readonly action: CrmAction;
}

/**
 * What compensation needs to undo an execution: the values the action overwrote, the ids of the
 * records it created. JSON only; the executor stores it durably with the execution.
 */
export type UndoInfo = Readonly<Record<string, unknown>>;

export interface ExecuteResult {
  /** `applied`: this call changed the CRM. `already-applied`: the CRM had the key already. */
  readonly status: 'applied' | 'already-applied';
  /** Present when the action is reversible: handed back to `compensate`. */
  readonly undo?: UndoInfo;
  /** Ids the CRM gave to records the action created (a task, an email activity). */
  readonly createdIds?: readonly string[];
  /** Operator-facing detail; never personal data or credentials. */
  readonly detail?: string;
}

export interface ReadRequest {
  readonly tenantId: string;
  readonly target: RecordTarget;
  /** Canonical field names. Only these are fetched and returned (never the whole record). */
  readonly fields: readonly string[];
}

export interface RecordData {
  readonly target: RecordTarget;
  /** Only the requested fields the record has, by canonical name. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** How `find` orders what it returns. */
export interface FindOrder {
  /** A declared canonical field of the object type. */
  readonly field: string;
  readonly descending: boolean;
}

/**
 * What callers hand to `ManagedConnector.find`: the SDK checks it against the capabilities and
 * fills the defaults (`normalizeFindQuery`) before the adapter sees a `FindRequest`.
 */
export interface FindQuery {
  readonly tenantId: string;
  readonly objectType: string;
  /**
   * Canonical field → value; every condition must hold (see `FindRequest.equals`). At most
   * `FIND_LIMITS.maxConditions`; empty or absent selects every record of the type.
   */
  readonly equals?: Readonly<Record<string, string>>;
  /** Canonical fields to return; empty or absent: every declared field of the type. */
  readonly fields?: readonly string[];
  readonly orderBy?: FindOrder;
  /** 1..`FIND_LIMITS.maxLimit`; absent: `FIND_LIMITS.defaultLimit`. */
  readonly limit?: number;
}

/**
 * A search for records of one object type, as the adapter receives it: already checked by the
 * SDK (object type, every field of `equals`, `fields` and `orderBy` declared; at most
 * `FIND_LIMITS.maxConditions` conditions; `limit` within bounds), `fields` never empty.
 */
export interface FindRequest {
  readonly tenantId: string;
  readonly objectType: string;
  /**
   * Canonical field → value. A record matches when, for every entry, its field has a scalar
   * value (string, finite number, boolean) whose `String()` equals the value exactly —
   * case-sensitive, `250` matches "250" but not "250.0", `true` matches "true"; a field without
   * a value (absent, null) never matches. `findValueMatches` is the reference; adapters whose
   * CRM compares differently (case-insensitively, numerically) re-check what the CRM returns.
   */
  readonly equals: Readonly<Record<string, string>>;
  /** Canonical fields to return (only these are read, never the whole record). */
  readonly fields: readonly string[];
  /**
   * Order of the records: by this field (records without a value last, in both directions),
   * ties by record id ascending. Absent: by record id ascending where the CRM allows it.
   * `compareFindValues` is the reference.
   */
  readonly orderBy?: FindOrder;
  /** Most records to return, 1..`FIND_LIMITS.maxLimit`. */
  readonly limit: number;
}

export interface FindResult {
  /** At most `limit` records, in the requested order; each with only the requested fields it has. */
  readonly records: readonly RecordData[];
  /**
   * True when more records may match than were returned. Adapters usually ask the CRM for
   * `limit + 1` records; one that stops scanning early (a page budget) also says true.
   */
  readonly truncated: boolean;
}

export type ChangeKind = 'created' | 'updated' | 'deleted';

/** One change read from a CRM's change feed, in canonical names. */
export interface ChangeRecord {
  readonly target: RecordTarget;
  readonly change: ChangeKind;
  /** Canonical names of the fields that changed (all of them for `created`). */
  readonly changedFields: readonly string[];
  /** The record's fields after the change (before it, for `deleted`), canonical names. */
  readonly snapshot: Readonly<Record<string, unknown>>;
  /** When the CRM says the change happened. */
  readonly occurredAt: Date;
  /**
   * Stable id of this change at the source (same change read twice → same id): the event id is
   * derived from it, so re-reading a page after a crash does not duplicate events downstream.
   */
  readonly sourceId: string;
}

export interface ChangePage {
  /** Changes in the CRM's order (oldest first). */
  readonly changes: readonly ChangeRecord[];
  /**
   * Where the next poll resumes: after the last change of this page. Opaque to everyone but the
   * adapter; persisted by the SDK only after the changes were handed on.
   */
  readonly nextCursor: string;
  /** True when the CRM has more changes right now (poll again without waiting). */
  readonly hasMore: boolean;
}

/** An inbound webhook call, as the HTTP server received it. */
export interface WebhookRequest {
  readonly method: string;
  /** The full URL the CRM called (signature schemes sign it). */
  readonly url: string;
  /** Header names lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The exact body bytes (signatures are over them; never a re-serialised JSON). */
  readonly rawBody: Buffer;
  readonly receivedAt: Date;
}

export interface CompensateRequest extends ExecuteRequest {
  /** What `execute` returned as `undo`. */
  readonly undo: UndoInfo;
}

/**
 * A CRM adapter: what a connector team implements. One instance serves one tenant (its
 * credentials, its limits). Every method throws `ConnectorError` to say what went wrong; the SDK
 * (`ManagedConnector`) adds rate limiting, retries, metrics and tracing around it, and the
 * `SafeExecutor` adds token checks and the at-most-once guard. Adapters never see a token.
 */
export interface ConnectorAdapter {
  readonly capabilities: ConnectorCapabilities;

  /** Applies one action to one record, at most once per idempotency key where the CRM can tell. */
  execute(request: ExecuteRequest, ctx: CallContext): Promise<ExecuteResult>;

  /** Reads the requested fields of one record; null when it does not exist. */
  read(request: ReadRequest, ctx: CallContext): Promise<RecordData | null>;

  /**
   * Optional: the records of one object type whose fields equal given values (an agent's related
   * context). Reads only, safe to retry. Present means supported: the conformance kit then checks
   * it (`finds-records`); absent, the SDK answers `FIND_UNSUPPORTED` (gRPC UNIMPLEMENTED). A
   * condition or order the CRM cannot evaluate on a declared field throws a permanent
   * `FIELD_NOT_FILTERABLE` / `FIELD_NOT_SORTABLE` error (gRPC INVALID_ARGUMENT).
   */
  find?(request: FindRequest, ctx: CallContext): Promise<FindResult>;

  /** Polling change feed (`changeFeed: 'polling'`): changes after `cursor` (from the start when undefined). */
  pollChanges?(
    tenantId: string,
    cursor: string | undefined,
    limit: number,
    ctx: CallContext,
  ): Promise<ChangePage>;

  /**
   * Webhook change feed (`changeFeed: 'webhook'`): authenticates the call (signature, timestamp)
   * and returns its changes. A bad signature throws a `permanent` ConnectorError with code
   * `WEBHOOK_SIGNATURE_INVALID` and nothing is ingested.
   */
  parseWebhook?(request: WebhookRequest, ctx: CallContext): Promise<readonly ChangeRecord[]>;

  /** Undoes an executed action (`reversibleActions`) from its `undo` information. */
  compensate?(request: CompensateRequest, ctx: CallContext): Promise<ExecuteResult>;

  /** Releases connections; called when the service stops. */
  close?(): Promise<void>;
}
