import type { CrmAction } from '@mandate/contracts';
import type { ConnectorAdapter, WebhookRequest } from '@mandate/connector-sdk';

/** A failure the CRM (or its test double) produces for the next calls. */
export type InjectedFault =
  /** HTTP 429 (or the CRM's equivalent) with Retry-After in seconds. */
  | { readonly kind: 'rate-limit'; readonly retryAfterSeconds: number }
  /** HTTP 5xx / a transient outage. */
  | { readonly kind: 'server-error' }
  /** The session/token is expired and cannot be refreshed. */
  | { readonly kind: 'auth-expired' }
  /** The CRM rejects the write with a field validation error. */
  | { readonly kind: 'validation' };

/** An action the kit executes against a freshly seeded record, and how to see its effect. */
export interface ActionSample {
  /** Canonical object type of the target. */
  readonly objectType: string;
  /** Fields of the record the harness seeds before executing (canonical names). */
  readonly seed: Readonly<Record<string, unknown>>;
  readonly action: CrmAction;
  /** True when the record as `inspect` returns it shows the action's effect. */
  readonly applied: (fields: Readonly<Record<string, unknown>>) => boolean;
  /**
   * A variant that conflicts with the seeded record (a stale `previous_value`, a wrong
   * `from_stage`), when the action supports optimistic concurrency.
   */
  readonly conflicting?: CrmAction;
}

/**
 * What an adapter team provides so the kit can test its adapter: the adapter under test, wired to
 * a CRM the harness controls (a local server reproducing the CRM's API, or the CRM's sandbox).
 * One harness per test: `close()` releases it.
 */
export interface ConformanceHarness {
  /** The adapter under test, for tenant `tenantId`. */
  readonly adapter: ConnectorAdapter;
  readonly tenantId: string;
  /**
   * A second adapter instance on the same CRM state, as after a restart of the connector (no
   * in-memory state carried over). Used by the idempotency-under-restart check.
   */
  restartAdapter(): Promise<ConnectorAdapter>;
  /** Creates a record directly in the CRM (not through the adapter); returns its CRM id. */
  seed(objectType: string, fields: Readonly<Record<string, unknown>>): Promise<string>;
  /** The record as the CRM holds it now, canonical names; undefined if it does not exist. */
  inspect(objectType: string, recordId: string): Promise<Record<string, unknown> | undefined>;
  /** Changes a record directly in the CRM, as a user would (feeds the change-feed checks). */
  touch(
    objectType: string,
    recordId: string,
    fields: Readonly<Record<string, unknown>>,
  ): Promise<void>;
  /** How many mutating requests the CRM has accepted so far (exactly-once checks). */
  writeCount(): Promise<number>;
  /** Makes the CRM fail its next `times` calls (default 1) with `fault`. */
  injectFault(fault: InjectedFault, times?: number): void;
  /**
   * Webhook adapters: the webhook calls the CRM would have made for the changes since the last
   * call, correctly signed, in the CRM's order.
   */
  takeWebhooks?(): Promise<WebhookRequest[]>;
  /** One sample per supported action type. */
  readonly samples: readonly ActionSample[];
  close(): Promise<void>;
}

/** Makes a fresh harness (fresh CRM state) for each check. */
export type HarnessFactory = () => Promise<ConformanceHarness>;
