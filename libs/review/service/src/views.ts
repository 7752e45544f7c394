import { actionTypeOf, CrmAction, Verdict, type ReviewTask } from '@mandate/contracts';
import { decodeReview, queueItem, type QueueItem, type TaskState } from '@mandate/review-domain';

/** One row of the queue as the HTTP API returns it (ISO timestamps). */
export interface TaskView {
  taskId: string;
  tenantId: string;
  status: string;
  team: string;
  skill: string;
  actionType: string;
  riskBand: string;
  requiredApprovals: number;
  approvals: { reviewerId: string; at: string }[];
  assigneeId?: string;
  leaseUntil?: string;
  createdAt: string;
  warnAt?: string;
  dueAt: string;
  tier: number;
  agentId: string;
  target: { objectType: string; recordId: string };
  summary: string;
  verdict: string;
  postHoc: boolean;
}

export interface TaskDetail extends TaskView {
  decision: {
    verdict: string;
    explanation: {
      summary: string;
      reasonCodes: string[];
      policiesMatched: string[];
      riskScore: number;
      riskBand: string;
      riskContributions: { factor: string; value: number; weight: number; contribution: number }[];
      trustScore: number;
      trustBand: string;
    };
  };
  proposal: {
    agentId: string;
    rationale: string;
    confidence: number;
    prompt: { promptId: string; version: number; contentHash: string };
    model: { provider: string; model: string; offline: boolean };
    action: { type: string; fields: Record<string, unknown> };
  };
  record: { objectType: string; recordId: string; fields: Record<string, unknown> } | null;
  comments: { id: string; authorId: string; text: string; at: string }[];
  reviews: {
    reviewerId: string;
    outcome: string;
    reasonCode: string;
    at: string;
    effect: string;
    recheckVerdict?: string;
  }[];
  history: { at: string; kind: string; summary: string }[];
}

type ViewSource = Pick<
  QueueItem,
  | 'taskId'
  | 'status'
  | 'team'
  | 'skill'
  | 'actionType'
  | 'riskBand'
  | 'tier'
  | 'postHoc'
  | 'requiredApprovals'
  | 'assigneeId'
  | 'leaseUntil'
  | 'createdAt'
  | 'warnAt'
  | 'dueAt'
  | 'task'
>;

export const verdictName = (v: Verdict | undefined) =>
  (Verdict[v ?? Verdict.VERDICT_UNSPECIFIED] ?? 'VERDICT_UNSPECIFIED').replace('VERDICT_', '');

/** `{type: "apply_discount", fields: {discountPercent: 18, ...}}` from the proto action. */
export function actionView(action: CrmAction | undefined): {
  type: string;
  fields: Record<string, unknown>;
} {
  if (!action?.kind) return { type: '', fields: {} };
  const json = CrmAction.toJSON(action) as Record<string, unknown>;
  const inner = Object.values(json)[0];
  return {
    type: actionTypeOf(action) ?? '',
    fields: inner && typeof inner === 'object' ? { ...(inner as Record<string, unknown>) } : {},
  };
}

/** A one-line description of the proposed action, e.g. "apply_discount (18 %) on opportunity opp-1". */
export function actionSummary(task: ReviewTask): string {
  const p = task.decision?.proposal;
  const { type, fields } = actionView(p?.action);
  const detail =
    fields['discountPercent'] !== undefined
      ? ` (${String(fields['discountPercent'])} %)`
      : typeof fields['status'] === 'string'
        ? ` → ${fields['status']}`
        : typeof fields['stage'] === 'string'
          ? ` → ${fields['stage']}`
          : '';
  const target = p?.target ? ` on ${p.target.objectType} ${p.target.recordId}` : '';
  return `${type || 'action'}${detail}${target}`;
}

export function toTaskView(s: ViewSource): TaskView {
  const task = s.task;
  const p = task.decision?.proposal;
  const active = s.status === 'OPEN' || s.status === 'CLAIMED';
  return {
    taskId: s.taskId,
    tenantId: task.tenantId,
    status: s.status,
    team: s.team,
    skill: s.skill,
    actionType: s.actionType,
    riskBand: s.riskBand,
    requiredApprovals: s.requiredApprovals,
    approvals: task.approvals.map((a) => ({ reviewerId: a.reviewerId, at: a.decidedAt ?? '' })),
    ...(s.status === 'CLAIMED' && s.assigneeId ? { assigneeId: s.assigneeId } : {}),
    ...(s.status === 'CLAIMED' && s.leaseUntil ? { leaseUntil: s.leaseUntil.toISOString() } : {}),
    createdAt: s.createdAt.toISOString(),
    ...(active && s.warnAt ? { warnAt: s.warnAt.toISOString() } : {}),
    dueAt: s.dueAt.toISOString(),
    tier: s.tier,
    agentId: p?.agentId ?? '',
    target: { objectType: p?.target?.objectType ?? '', recordId: p?.target?.recordId ?? '' },
    summary: actionSummary(task),
    verdict: verdictName(task.decision?.verdict),
    postHoc: s.postHoc,
  };
}

/** The view of a stored task (the detail route reads the whole document). */
export function stateView(s: TaskState): TaskView {
  return toTaskView(queueItem(s));
}

export function taskDetail(s: TaskState, record: TaskDetail['record']): TaskDetail {
  const item = queueItem(s);
  const view = toTaskView(item);
  const decision = item.task.decision;
  const e = decision?.explanation;
  const p = decision?.proposal;
  const reviews = s.reviews.map((r) => ({
    reviewerId: r.reviewerId,
    outcome: r.outcome,
    reasonCode: r.reasonCode,
    at: r.decidedAt.toISOString(),
    effect: r.effect,
    ...(r.recheckVerdict ? { recheckVerdict: r.recheckVerdict } : {}),
  }));
  return {
    ...view,
    decision: {
      verdict: verdictName(decision?.verdict),
      explanation: {
        summary: e?.summary ?? '',
        reasonCodes: [...(e?.reasonCodes ?? [])],
        policiesMatched: [...(e?.policiesMatched ?? [])],
        riskScore: e?.riskScore ?? 0,
        riskBand: e?.riskBand ?? '',
        riskContributions: (e?.riskContributions ?? []).map((c) => ({
          factor: c.factor,
          value: c.value,
          weight: c.weight,
          contribution: c.contribution,
        })),
        trustScore: e?.trustScore ?? 0,
        trustBand: e?.trustBand ?? '',
      },
    },
    proposal: {
      agentId: p?.agentId ?? '',
      rationale: p?.rationale ?? '',
      confidence: p?.confidence ?? 0,
      prompt: {
        promptId: p?.prompt?.promptId ?? '',
        version: p?.prompt?.version ?? 0,
        contentHash: p?.prompt?.contentHash ?? '',
      },
      model: {
        provider: p?.model?.provider ?? '',
        model: p?.model?.model ?? '',
        offline: p?.model?.offline ?? false,
      },
      action: actionView(editedOrProposed(s) ?? p?.action),
    },
    record,
    comments: s.comments.map((c) => ({
      id: c.id,
      authorId: c.authorId,
      text: c.text,
      at: c.at.toISOString(),
    })),
    reviews,
    history: history(s),
  };
}

/** The action as it stands: the last edit, if a reviewer edited it. */
function editedOrProposed(s: TaskState): CrmAction | undefined {
  for (let i = s.reviews.length - 1; i >= 0; i--)
    if (s.reviews[i].outcome === 'EDIT_APPROVE') return decodeReview(s.reviews[i]).editedAction;
  return undefined;
}

/**
 * The task's trail from its own document: opened, SLA warning, decisions, close. (Claims,
 * releases and escalations are in the ledger's REVIEW_TASK records; the document keeps only the
 * current claim and tier; the view's `tier` says how far it escalated.)
 */
function history(s: TaskState): TaskDetail['history'] {
  const h: TaskDetail['history'] = [
    {
      at: s.createdAt.toISOString(),
      kind: 'opened',
      summary: `opened in queue ${s.team}${s.postHoc ? ' (post-hoc review)' : ''}`,
    },
  ];
  if (s.warnedAt)
    h.push({ at: s.warnedAt.toISOString(), kind: 'sla_warning', summary: 'SLA warning' });
  if (s.status === 'CLAIMED' && s.claimedAt)
    h.push({
      at: s.claimedAt.toISOString(),
      kind: 'claimed',
      summary: `claimed by ${s.assigneeId ?? ''}`,
    });
  for (const r of s.reviews)
    h.push({
      at: r.decidedAt.toISOString(),
      kind: 'decision',
      summary:
        `${r.reviewerId} ${r.outcome}${r.outcome === 'REJECT' ? ` (${r.reasonCode})` : ''}` +
        `${r.recheckVerdict ? `; policy re-check ${r.recheckVerdict}` : ''} → ${r.effect}`,
    });
  if (s.closedAt)
    h.push({
      at: s.closedAt.toISOString(),
      kind: 'closed',
      summary: `${s.status.toLowerCase()} (${s.closeReason ?? ''}${s.closeReasons?.length ? `: ${s.closeReasons.join(', ')}` : ''})`,
    });
  return h.sort((a, b) => a.at.localeCompare(b.at));
}
