import { TrustEvidence } from '@mandate/contracts';

/**
 * A clean track record — `count` approved reviews, each followed by a successful execution, one
 * per day up to `until` — as trust-evidence events. For the embedded demo and end-to-end tests,
 * which start with empty databases but want to show an agent that has earned autonomy. Published
 * on the trust-evidence topic, it goes through the same consumer as real outcomes.
 */
export function cleanTrackRecord(o: {
  tenantId: string;
  agentId: string;
  actionType: string;
  count: number;
  until: Date;
  idPrefix?: string;
}): TrustEvidence[] {
  const prefix = o.idPrefix ?? 'track-record';
  const events: TrustEvidence[] = [];
  for (let i = 0; i < o.count; i++) {
    const at = new Date(o.until.getTime() - (o.count - i) * 3_600_000);
    for (const kind of ['review_approve', 'execution_success'] as const)
      events.push(
        TrustEvidence.fromPartial({
          eventId: `${prefix}/${o.tenantId}/${o.agentId}/${o.actionType}/${i}/${kind}`,
          tenantId: o.tenantId,
          agentId: o.agentId,
          actionType: o.actionType,
          kind,
          occurredAt: at.toISOString(),
          correlationId: `${prefix}-${o.agentId}`,
        }),
      );
  }
  return events;
}
