/**
 * Hand-off tasks: an agent's plan that ended `handed-off` (the orchestrator's `PlanHandOff`),
 * waiting for a person to take the work over in the CRM. Kept apart from review tasks: nothing is
 * approved or rejected here (no policy decision, no re-check, no SLA); a reviewer claims it, does
 * the work in the CRM, and resolves it as done or dismissed.
 */

export type HandOffStatusName = 'OPEN' | 'CLAIMED' | 'DONE' | 'DISMISSED';

/** How a person closed a hand-off: they did the work, or there was nothing to do. */
export type HandOffOutcome = 'DONE' | 'DISMISSED';

export const HANDOFF_STATUSES: readonly HandOffStatusName[] = [
  'OPEN',
  'CLAIMED',
  'DONE',
  'DISMISSED',
];
export const HANDOFF_OUTCOMES: readonly HandOffOutcome[] = ['DONE', 'DISMISSED'];

/** Statuses in which a hand-off still waits for a person. */
export const ACTIVE_HANDOFF_STATUSES: readonly HandOffStatusName[] = ['OPEN', 'CLAIMED'];

export const isOpenHandOff = (status: HandOffStatusName) =>
  status === 'OPEN' || status === 'CLAIMED';

/** One step of the handed-off plan (no arguments: those stay in the plan and the ledger). */
export interface HandOffStep {
  index: number;
  /** snake_case, e.g. "apply_discount". */
  actionType: string;
  /** The step's state when the plan ended ("denied", "rejected", "cancelled", ...). */
  status: string;
  reasons: string[];
  proposalId: string;
}

/** The one resolution of a hand-off. */
export interface HandOffResolution {
  /** Resolution id: a repeated request with the same id changes nothing. */
  id: string;
  outcome: HandOffOutcome;
  reviewerId: string;
  at: Date;
  /** Free text for colleagues (may hold personal data: kept out of audit records). */
  note?: string;
}

/** What happened to the task, oldest first (the ledger's HANDOFF_TASK records say the same). */
export interface HandOffEvent {
  at: Date;
  event: 'opened' | 'claimed' | 'released' | 'resolved';
  /** "human-review" for the opening, otherwise the reviewer. */
  actor: string;
  /** The claim's previous holder, when a supervisor released someone else's claim. */
  previousAssignee?: string;
  /** DONE / DISMISSED, for `resolved`. */
  outcome?: HandOffOutcome;
}

/** A hand-off task as stored (`handoff_tasks`); `id` is the hand-off id. */
export interface HandOffTaskDoc {
  id: string;
  status: HandOffStatusName;
  correlationId: string;
  planId: string;
  agentId: string;
  objective: string;
  target: { objectType: string; recordId: string };
  /** Why a person has it (PII-free: the summary the ledger holds for the plan's end). */
  reason: string;
  /** Record ids the agent could not choose between. */
  candidates: string[];
  steps: HandOffStep[];
  /** Team whose reviewers work it (`handoffTeam`); supervisors work every team's. */
  team: string;
  handedOffAt: Date;
  createdAt: Date;
  updatedAt: Date;
  /** Who has taken it over (CLAIMED). Claims hold until released or resolved: no lease. */
  assigneeId?: string;
  claimedAt?: Date;
  resolution?: HandOffResolution;
  closedAt?: Date;
  history: HandOffEvent[];
  /** The PlanHandOff as received (protobuf, base64). */
  handoff: string;
}

/** A hand-off task as the domain hands it out (the service renders it as JSON). */
export interface HandOffTask {
  readonly handoffId: string;
  readonly tenantId: string;
  readonly status: HandOffStatusName;
  readonly team: string;
  readonly planId: string;
  readonly correlationId: string;
  readonly agentId: string;
  readonly objective: string;
  readonly target: { readonly objectType: string; readonly recordId: string };
  readonly reason: string;
  readonly candidates: readonly string[];
  readonly steps: readonly HandOffStep[];
  readonly handedOffAt: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly assigneeId?: string;
  readonly claimedAt?: Date;
  readonly resolution?: HandOffResolution;
  readonly closedAt?: Date;
  readonly history: readonly HandOffEvent[];
}

export function handOffTaskOf(tenantId: string, d: HandOffTaskDoc): HandOffTask {
  return {
    handoffId: d.id,
    tenantId,
    status: d.status,
    team: d.team,
    planId: d.planId,
    correlationId: d.correlationId,
    agentId: d.agentId,
    objective: d.objective,
    target: { objectType: d.target.objectType, recordId: d.target.recordId },
    reason: d.reason,
    candidates: [...d.candidates],
    steps: d.steps.map((s) => ({ ...s, reasons: [...s.reasons] })),
    handedOffAt: d.handedOffAt,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    ...(d.assigneeId ? { assigneeId: d.assigneeId, claimedAt: d.claimedAt } : {}),
    ...(d.resolution ? { resolution: { ...d.resolution } } : {}),
    ...(d.closedAt ? { closedAt: d.closedAt } : {}),
    history: d.history.map((h) => ({ ...h })),
  };
}
