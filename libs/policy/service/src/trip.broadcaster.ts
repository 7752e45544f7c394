import { Inject, Injectable } from '@nestjs/common';
import { buildAuditRecord } from '@mandate/audit-client';
import {
  breakerTripEvent,
  CircuitBreakers,
  controlAuditFacts,
  type AutonomyAuditEvent,
} from '@mandate/policy-domain';
import { controlTenant, Topics } from '@mandate/messaging';
import { SERVICE_CONTEXT, type ServiceContext } from '@mandate/platform';
import { PendingPublications } from './pending-publications';

const SOURCE = 'policy';

/**
 * A replica that trips a circuit breaker tells every replica (control topic: each one demotes the
 * tenant × agent at once) and the ledger. Ids are deterministic per trip, so a re-sent trip is
 * one control event and one audit record; a trip whose sending failed is sent by the retry.
 */
@Injectable()
export class TripBroadcaster {
  constructor(
    private readonly breakers: CircuitBreakers,
    private readonly pending: PendingPublications,
    @Inject(SERVICE_CONTEXT) private readonly ctx: ServiceContext,
  ) {}

  async broadcast(trip: AutonomyAuditEvent): Promise<void> {
    const agentId = trip.attributes.agent_id ?? '';
    const open = this.breakers
      .state(trip.tenantId, agentId)
      .find((b) => b.kind === trip.attributes.breaker);
    if (!open) return; // reset in the meantime
    const event = breakerTripEvent(open);
    const record = buildAuditRecord(controlAuditFacts(trip, event));
    this.ctx.logger.warn(
      { tenantId: open.tenantId, agentId, breaker: open.kind, reason: open.reason },
      'circuit breaker tripped',
    );
    await this.pending.publish(event.eventId, async () => {
      await this.ctx.bus.publish(Topics.policyControl, event, {
        tenantId: controlTenant(event),
        correlationId: event.eventId,
        source: SOURCE,
        id: event.eventId,
      });
      await this.ctx.bus.publish(Topics.auditRecords, record, {
        tenantId: record.tenantId,
        correlationId: record.correlationId,
        source: SOURCE,
        id: record.recordId,
      });
    });
  }

  /** Sends trips whose broadcast failed earlier (see PendingPublications). */
  flush(): Promise<void> {
    return this.pending.flush();
  }
}
