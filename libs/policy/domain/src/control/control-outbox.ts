import { AuditKind, PolicyControlEvent } from '@mandate/contracts';
import { auditOutboxMessage, type AuditFacts } from '@mandate/audit-client';
import { controlTenant, outboxMessage, SYSTEM_TENANT, Topics } from '@mandate/messaging';
import type { OutboxMessage } from '@mandate/storage';
import type { AutonomyAuditEvent } from '../autonomy/autonomy-audit';

/** CloudEvents source of everything the control plane publishes. */
export const CONTROL_SOURCE = 'policy';

/**
 * Control transitions are recorded as AUDIT_KIND_POLICY_CONTROL, with the specific transition
 * (KILL_SWITCH_SET, CIRCUIT_BREAKER_RESET_REFUSED, …) in the `control` attribute and, when there
 * is one, the control event as payload (`mandate.v1.PolicyControlEvent`).
 */
export const CONTROL_AUDIT_KIND = AuditKind.AUDIT_KIND_POLICY_CONTROL;
export const CONTROL_AUDIT_PAYLOAD_TYPE = 'mandate.v1.PolicyControlEvent';

/** The control event as an outbox message for the control topic (key and tenant: controlTenant). */
export function controlOutboxMessage(event: PolicyControlEvent): OutboxMessage {
  return outboxMessage(Topics.policyControl, event, {
    tenantId: controlTenant(event),
    correlationId: event.eventId,
    source: CONTROL_SOURCE,
    id: event.eventId,
    ...(event.occurredAt ? { time: new Date(event.occurredAt) } : {}),
  });
}

/**
 * The audit record facts of a control transition. The record id derives from `audit.auditId`,
 * which is deterministic per event, so the record ControlAdmin writes and the ones every
 * replica's ControlApplier may publish for the same event are one ledger leaf.
 */
export function controlAuditFacts(
  audit: AutonomyAuditEvent,
  event?: PolicyControlEvent,
): AuditFacts {
  return {
    kind: CONTROL_AUDIT_KIND,
    tenantId: audit.tenantId || SYSTEM_TENANT,
    correlationId: event?.eventId || audit.auditId,
    actor: audit.actor || 'unknown',
    summary: audit.summary,
    dedupeKey: audit.auditId,
    ...(event
      ? {
          payloadType: CONTROL_AUDIT_PAYLOAD_TYPE,
          payload: PolicyControlEvent.encode(event).finish(),
        }
      : {}),
    attributes: { ...audit.attributes, control: audit.kind },
    occurredAt: new Date(audit.occurredAt),
  };
}

/** `controlAuditFacts` as an outbox message for the audit-records topic. */
export function controlAuditOutboxMessage(
  audit: AutonomyAuditEvent,
  event?: PolicyControlEvent,
): OutboxMessage {
  return auditOutboxMessage(controlAuditFacts(audit, event), CONTROL_SOURCE);
}
