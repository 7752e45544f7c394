import { createHash } from 'node:crypto';
import { ActionProposal, ChangeType, CrmAction, CrmChangeEvent } from '@mandate/contracts';
import { assessLead, LeadSignals, OFFLINE_MODEL } from './offline-lead-model';

export const LEAD_QUALIFICATION_AGENT = 'lead-qualification';
/** Placeholder prompt reference until the prompt registry lands: the offline model has no prompt. */
export const OFFLINE_PROMPT = {
  promptId: 'lead-qualification/offline',
  version: 1,
  contentHash: 'none',
};

/** Fields the agent may read (its purpose limit); personal fields are reduced to non-identifying signals. */
export const LEAD_CONTEXT_FIELDS = [
  'employees',
  'title',
  'source',
  'industry',
  'notes',
  'email',
] as const;

/** Deterministic UUID-shaped id from a seed, so a redelivered event yields the same proposal. */
export function deterministicId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Builds the model's input from a lead snapshot: no name, no email address, only its domain. */
export function leadSignals(snapshot: Record<string, unknown> | undefined): LeadSignals {
  const s = snapshot ?? {};
  const email = typeof s['email'] === 'string' ? (s['email'] as string) : undefined;
  return {
    employees:
      typeof s['employees'] === 'number'
        ? (s['employees'] as number)
        : Number(s['employees']) || undefined,
    title: str(s['title']),
    source: str(s['source']),
    industry: str(s['industry']),
    notes: str(s['notes']),
    emailDomain: email?.includes('@') ? email.split('@')[1] : undefined,
  };
}

/**
 * A lead to qualify: just created, or set back to status "New" by a user (a re-opened lead).
 * Other edits (including the agent's own) are not a reason to qualify again.
 */
function isNewLead(event: CrmChangeEvent): boolean {
  if (event.changeType === ChangeType.CHANGE_TYPE_CREATED) return true;
  return (
    event.changeType === ChangeType.CHANGE_TYPE_UPDATED &&
    event.changedFields.includes('status') &&
    event.snapshot?.['status'] === 'New'
  );
}

/**
 * Proposes qualify/disqualify for a newly created lead. Returns undefined for changes the agent
 * does not act on. The proposal's ids derive from the event id (idempotent under redelivery).
 */
export function proposeLeadQualification(
  event: CrmChangeEvent,
  now: Date = new Date(),
): ActionProposal | undefined {
  if (event.objectType !== 'lead' || !isNewLead(event)) return undefined;
  const assessment = assessLead(leadSignals(event.snapshot));
  const action: CrmAction = assessment.qualified
    ? {
        kind: {
          $case: 'qualifyLead',
          value: {
            score: Math.round(assessment.score * 100),
            reason: assessment.reasons.join('; '),
          },
        },
      }
    : {
        kind: {
          $case: 'disqualifyLead',
          value: {
            reasonCode: 'LOW_FIT',
            reason: assessment.reasons.join('; ') || 'no qualifying signal',
          },
        },
      };
  const seed = `${event.tenantId}/${event.eventId}/${LEAD_QUALIFICATION_AGENT}/0`;
  return ActionProposal.fromPartial({
    proposalId: deterministicId(`proposal/${seed}`),
    tenantId: event.tenantId,
    correlationId: event.correlationId || event.eventId,
    agentId: LEAD_QUALIFICATION_AGENT,
    idempotencyKey: deterministicId(`idem/${seed}`),
    target: { objectType: event.objectType, recordId: event.recordId },
    action,
    rationale: `score ${assessment.score.toFixed(2)}: ${assessment.reasons.join('; ') || 'no signal'}`,
    confidence: assessment.confidence,
    prompt: OFFLINE_PROMPT,
    model: {
      provider: OFFLINE_MODEL.provider,
      model: OFFLINE_MODEL.model,
      parameters: {},
      offline: true,
    },
    planId: deterministicId(`plan/${seed}`),
    stepIndex: 0,
    createdAt: now.toISOString(),
  });
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}
