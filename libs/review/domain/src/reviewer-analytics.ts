import type { DocumentStore, TenantId } from '@mandate/storage';
import { ReviewConfigError } from './errors';
import {
  payloadCharsOf,
  decodeTask,
  type ReviewTaskDoc,
  type StoredReview,
} from './review-task.doc';

/**
 * Reviewer analytics: per reviewer and period, how many decisions, how fast (median and p90 of
 * claim-or-open → decision), how often they override the agent (reject or edit), and
 * rubber-stamping flags — approvals faster than anyone could read the item. The reading floor of
 * an item is explicit and configurable: a base time, plus time per character of what there is
 * to read (the action and the agent's rationale), scaled by the risk band. Each flag says how
 * its floor was computed.
 */

export interface ReadingFloorConfig {
  /** Time to take in any item at all. Default 5 s. */
  readonly baseMs: number;
  /** Per character of action + rationale (20 ms ≈ 3000 characters a minute: a fast skim). */
  readonly msPerChar: number;
  /** Multiplier by risk band; bands not listed use `defaultRiskMultiplier`. */
  readonly riskMultiplier: Readonly<Record<string, number>>;
  readonly defaultRiskMultiplier: number;
}

export interface AnalyticsConfig {
  readonly readingFloor: ReadingFloorConfig;
  /** A reviewer is suspected of rubber-stamping when this share of timed approvals is flagged… */
  readonly suspectShare: number;
  /** …and at least this many are. */
  readonly suspectMinFlags: number;
}

export const DEFAULT_ANALYTICS: AnalyticsConfig = {
  readingFloor: {
    baseMs: 5_000,
    msPerChar: 20,
    riskMultiplier: { low: 1, medium: 1.5, high: 2, critical: 3 },
    defaultRiskMultiplier: 1.5,
  },
  suspectShare: 0.25,
  suspectMinFlags: 3,
};

export function analyticsConfig(input: Partial<AnalyticsConfig> = {}): AnalyticsConfig {
  const c: AnalyticsConfig = {
    ...DEFAULT_ANALYTICS,
    ...input,
    readingFloor: { ...DEFAULT_ANALYTICS.readingFloor, ...input.readingFloor },
  };
  const f = c.readingFloor;
  const multipliers = [...Object.values(f.riskMultiplier), f.defaultRiskMultiplier];
  if (!(f.baseMs >= 0 && f.msPerChar >= 0) || multipliers.some((m) => !(m > 0)))
    throw new ReviewConfigError('reading floor: times must be >= 0 and multipliers > 0');
  if (!(c.suspectShare > 0 && c.suspectShare <= 1) || !(c.suspectMinFlags >= 1))
    throw new ReviewConfigError('suspectShare must be in (0, 1] and suspectMinFlags >= 1');
  return c;
}

export interface Period {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
}

export interface ReadingFloor {
  readonly floorMs: number;
  readonly explanation: string;
}

/** The least time an honest read of an item takes, with how it was computed. */
export function readingFloor(
  item: { readonly riskBand: string; readonly payloadChars: number },
  config: ReadingFloorConfig = DEFAULT_ANALYTICS.readingFloor,
): ReadingFloor {
  const m = config.riskMultiplier[item.riskBand] ?? config.defaultRiskMultiplier;
  const floorMs = Math.round((config.baseMs + item.payloadChars * config.msPerChar) * m);
  return {
    floorMs,
    explanation:
      `reading floor ${fmt(floorMs)} = (${fmt(config.baseMs)} base + ${item.payloadChars} chars × ` +
      `${config.msPerChar} ms) × ${m} (risk ${item.riskBand})`,
  };
}

export interface RubberStampFlag {
  readonly taskId: string;
  readonly reviewDecisionId: string;
  readonly decidedAt: Date;
  readonly tookMs: number;
  readonly floorMs: number;
  /** Whether the time ran from the reviewer's claim or (no claim) from when the task opened. */
  readonly measuredFrom: 'claim' | 'open';
  readonly riskBand: string;
  readonly payloadChars: number;
  readonly explanation: string;
}

export interface ReviewerReport {
  readonly reviewerId: string;
  readonly decisions: number;
  readonly approvals: number;
  readonly edits: number;
  readonly rejections: number;
  /** Approvals given in batches (low-risk by construction; not timed for rubber-stamping). */
  readonly batchApprovals: number;
  /** Claim (or open) → decision, nearest-rank percentiles; null without decisions. */
  readonly decisionTimeMs: { readonly median: number | null; readonly p90: number | null };
  /** (rejections + edits) / decisions: how often the reviewer overrode what the agent proposed. */
  readonly overrideRate: number;
  readonly editRate: number;
  readonly rejectRate: number;
  readonly rubberStamping: {
    readonly flags: RubberStampFlag[];
    /** Flagged share of the approvals that were timed (not batch). */
    readonly rate: number;
    readonly suspected: boolean;
    readonly explanation: string;
  };
}

/** Nearest-rank percentile of ascending `sorted` (p in (0, 1]). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1];
}

interface Row {
  readonly review: StoredReview;
  readonly taskId: string;
  readonly riskBand: string;
  readonly payloadChars: number;
}

/** Reports for every reviewer who decided within `period`, ordered by reviewer id. */
export function reviewerAnalytics(
  tasks: Iterable<ReviewTaskDoc>,
  period: Period,
  input: Partial<AnalyticsConfig> | AnalyticsConfig = {},
): ReviewerReport[] {
  const config = analyticsConfig(input);
  const byReviewer = new Map<string, Row[]>();
  for (const t of tasks) {
    const riskBand = t.riskBand ?? decodeTask(t).decision?.explanation?.riskBand ?? 'unknown';
    const payloadChars = t.payloadChars ?? payloadCharsOf(decodeTask(t).decision);
    for (const review of t.reviews ?? []) {
      if (review.system || review.decidedAt < period.from || review.decidedAt >= period.to)
        continue;
      const rows = byReviewer.get(review.reviewerId) ?? [];
      rows.push({ review, taskId: t.id, riskBand: riskBand || 'unknown', payloadChars });
      byReviewer.set(review.reviewerId, rows);
    }
  }
  return [...byReviewer.keys()].sort().map((id) => report(id, byReviewer.get(id) ?? [], config));
}

function report(reviewerId: string, rows: Row[], config: AnalyticsConfig): ReviewerReport {
  const count = (o: StoredReview['outcome']) => rows.filter((r) => r.review.outcome === o).length;
  const decisions = rows.length;
  const approvals = count('APPROVE');
  const edits = count('EDIT_APPROVE');
  const rejections = count('REJECT');
  const times = rows
    .map((r) => r.review.decidedAt.getTime() - r.review.startedAt.getTime())
    .sort((a, b) => a - b);
  const timed = rows.filter((r) => r.review.outcome === 'APPROVE' && !r.review.batchId);
  const flags: RubberStampFlag[] = [];
  for (const r of timed) {
    const tookMs = r.review.decidedAt.getTime() - r.review.startedAt.getTime();
    const floor = readingFloor(r, config.readingFloor);
    if (tookMs >= floor.floorMs) continue;
    flags.push({
      taskId: r.taskId,
      reviewDecisionId: r.review.id,
      decidedAt: r.review.decidedAt,
      tookMs,
      floorMs: floor.floorMs,
      measuredFrom: r.review.startedFrom,
      riskBand: r.riskBand,
      payloadChars: r.payloadChars,
      explanation:
        `approved ${fmt(tookMs)} after ${r.review.startedFrom === 'claim' ? 'claiming' : 'the task opened'}, ` +
        `under the ${floor.explanation}`,
    });
  }
  const rate = timed.length ? flags.length / timed.length : 0;
  const suspected = flags.length >= config.suspectMinFlags && rate >= config.suspectShare;
  const ratio = (n: number) => (decisions ? n / decisions : 0);
  return {
    reviewerId,
    decisions,
    approvals,
    edits,
    rejections,
    batchApprovals: rows.filter((r) => r.review.batchId).length,
    decisionTimeMs: { median: percentile(times, 0.5), p90: percentile(times, 0.9) },
    overrideRate: ratio(rejections + edits),
    editRate: ratio(edits),
    rejectRate: ratio(rejections),
    rubberStamping: {
      flags,
      rate,
      suspected,
      explanation:
        `${flags.length} of ${timed.length} timed approvals were faster than their reading floor ` +
        `(${Math.round(rate * 100)}%); suspected when at least ${config.suspectMinFlags} and ` +
        `${Math.round(config.suspectShare * 100)}% are` +
        (suspected ? ': SUSPECTED' : ': not suspected'),
    },
  };
}

const PAGE = 1000;
const MAX_PAGES = 100;

/** Loads the tasks decided on within a period (by `lastDecisionAt`) and reports on them. */
export class ReviewerAnalytics {
  private readonly config: AnalyticsConfig;

  constructor(
    private readonly tasks: DocumentStore<ReviewTaskDoc>,
    config: Partial<AnalyticsConfig> = {},
  ) {
    this.config = analyticsConfig(config);
  }

  async report(tenant: TenantId, period: Period): Promise<ReviewerReport[]> {
    // Any decision at or after `from` lives on a task whose last decision is at or after it.
    const docs = new Map<string, ReviewTaskDoc>();
    let from = period.from;
    for (let page = 0; page < MAX_PAGES; page++) {
      const found = await this.tasks.find(
        tenant,
        { lastDecisionAt: { $gte: from } },
        { sort: { lastDecisionAt: 1 }, limit: PAGE },
      );
      let added = 0;
      for (const d of found)
        if (!docs.has(d.id)) {
          docs.set(d.id, d);
          added++;
        }
      const last = found[found.length - 1]?.lastDecisionAt;
      if (found.length < PAGE || added === 0 || !last) break;
      from = last;
    }
    return reviewerAnalytics(docs.values(), period, this.config);
  }
}

function fmt(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`;
}
