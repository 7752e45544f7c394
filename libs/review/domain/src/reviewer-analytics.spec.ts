import { Verdict } from '@mandate/contracts';
import { ReviewConfigError } from './errors';
import type { ReviewTaskDoc, StoredReview } from './review-task.doc';
import {
  percentile,
  readingFloor,
  ReviewerAnalytics,
  reviewerAnalytics,
  type Period,
} from './reviewer-analytics';
import { ACME, discount, email, harness, MIN, qualify, START } from './testing/fixtures';

const S = 1000;
const at = (ms: number) => new Date(START.getTime() + ms);
const DAY: Period = { from: START, to: at(24 * 3600 * S) };

let n = 0;
function task(
  riskBand: string,
  payloadChars: number,
  reviews: Partial<StoredReview>[],
): ReviewTaskDoc {
  n++;
  return {
    id: `t${n}`,
    status: 'APPROVED',
    correlationId: `c${n}`,
    requiredApprovals: 1,
    task: '',
    createdAt: START,
    dueAt: at(4 * 3600 * S),
    riskBand,
    payloadChars,
    reviews: reviews.map((r, i) => ({
      id: `rd-${n}-${i}`,
      reviewerId: 'alice',
      outcome: 'APPROVE',
      reasonCode: 'APPROVED',
      decidedAt: at(60 * S),
      startedAt: START,
      startedFrom: 'claim',
      effect: 'approved',
      decision: '',
      ...r,
    })),
  };
}

describe('reviewer analytics', () => {
  it('computes an explainable reading floor from size and risk', () => {
    expect(readingFloor({ riskBand: 'medium', payloadChars: 500 })).toEqual({
      floorMs: 22_500,
      explanation: 'reading floor 22.5 s = (5.0 s base + 500 chars × 20 ms) × 1.5 (risk medium)',
    });
    expect(readingFloor({ riskBand: 'critical', payloadChars: 0 }).floorMs).toBe(15_000);
    expect(readingFloor({ riskBand: 'weird', payloadChars: 0 }).floorMs).toBe(7_500); // default multiplier
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBe(9);
    expect(percentile([7], 0.9)).toBe(7);
  });

  it('reports decisions, decision times, override and edit rates per reviewer within the period', () => {
    const tasks = [
      task('low', 100, [{ decidedAt: at(10 * S) }]),
      task('low', 100, [{ decidedAt: at(20 * S) }]),
      task('low', 100, [{ decidedAt: at(30 * S), outcome: 'REJECT', reasonCode: 'WRONG' }]),
      task('low', 100, [{ decidedAt: at(40 * S), outcome: 'EDIT_APPROVE' }]),
      task('low', 100, [{ decidedAt: at(400 * S), reviewerId: 'bob' }]),
      // out of the period, and a system decision: not counted
      task('low', 100, [{ decidedAt: at(-5 * S) }]),
      task('low', 100, [
        { decidedAt: at(50 * S), reviewerId: 'system/sla', system: true, outcome: 'REJECT' },
      ]),
    ];
    const [alice, bob] = reviewerAnalytics(tasks, DAY);
    expect(alice).toEqual(
      expect.objectContaining({
        reviewerId: 'alice',
        decisions: 4,
        approvals: 2,
        rejections: 1,
        edits: 1,
        overrideRate: 0.5,
        editRate: 0.25,
        rejectRate: 0.25,
        decisionTimeMs: { median: 20_000, p90: 40_000 },
      }),
    );
    expect(bob).toEqual(
      expect.objectContaining({ reviewerId: 'bob', decisions: 1, overrideRate: 0 }),
    );
    expect(reviewerAnalytics(tasks, DAY).map((r) => r.reviewerId)).toEqual(['alice', 'bob']);
  });

  it('flags approvals faster than the reading floor, with why, and suspects a pattern only past the thresholds', () => {
    const fast = (chars: number, ms: number, band = 'high') =>
      task(band, chars, [{ decidedAt: at(ms), startedAt: START }]);
    const tasks = [
      fast(800, 3 * S), // floor (5 s + 16 s) × 2 = 42 s: flagged
      fast(800, 2 * S),
      fast(50, 5 * S, 'low'), // floor 6 s: flagged
      fast(50, 7 * S, 'low'), // not flagged
      // batch approvals and edits are not timed
      task('low', 50, [{ decidedAt: at(S), batchId: 'b1' }]),
      task('high', 800, [{ decidedAt: at(S), outcome: 'EDIT_APPROVE' }]),
    ];
    const [alice] = reviewerAnalytics(tasks, DAY);
    expect(alice.rubberStamping.flags).toHaveLength(3);
    expect(alice.rubberStamping.flags[0]).toEqual(
      expect.objectContaining({
        tookMs: 3000,
        floorMs: 42_000,
        measuredFrom: 'claim',
        riskBand: 'high',
        payloadChars: 800,
        explanation:
          'approved 3.0 s after claiming, under the reading floor 42.0 s = (5.0 s base + 800 chars × 20 ms) × 2 (risk high)',
      }),
    );
    expect(alice.rubberStamping.rate).toBe(0.75);
    expect(alice.rubberStamping.suspected).toBe(true);
    expect(alice.rubberStamping.explanation).toContain('3 of 4 timed approvals');
    expect(alice.batchApprovals).toBe(1);
    // configurable: a laxer floor, or a stricter suspicion threshold
    const lax = reviewerAnalytics(tasks, DAY, {
      readingFloor: { baseMs: 0, msPerChar: 0, riskMultiplier: {}, defaultRiskMultiplier: 1 },
    });
    expect(lax[0].rubberStamping.flags).toHaveLength(0);
    const strict = reviewerAnalytics(tasks, DAY, { suspectMinFlags: 4 });
    expect(strict[0].rubberStamping.suspected).toBe(false);
    expect(() => reviewerAnalytics(tasks, DAY, { suspectShare: 0 })).toThrow(ReviewConfigError);
  });

  it('reads decisions from the store over real review flows (claim → decision; open → decision)', async () => {
    const h = harness();
    const long = 'Lorem ipsum dolor sit amet. '.repeat(40); // ~1100 chars to read
    const big = await h.open('big', { action: email(long), riskBand: 'high' });
    const small = await h.open('small', { action: qualify(), riskBand: 'low' });
    const fe = await h.open('fe', { action: discount(20), verdict: Verdict.VERDICT_APPROVE_2 });
    await h.queue.claim(ACME, big, 'alice');
    h.clock.advance(4 * S);
    await h.decisions.decide(ACME, big, 'alice', { outcome: 'APPROVE' }); // 4 s for ~1100 chars: flagged
    h.clock.advance(10 * MIN);
    await h.decisions.decide(ACME, small, 'dave', { outcome: 'REJECT', reasonCode: 'NOT_A_FIT' });
    await h.decisions.decide(ACME, fe, 'alice', {
      outcome: 'EDIT_APPROVE',
      editedAction: discount(15),
    });
    const reports = await new ReviewerAnalytics(h.store).report(ACME, {
      from: START,
      to: h.clock.advance(1),
    });
    const alice = reports.find((r) => r.reviewerId === 'alice')!;
    expect(alice).toEqual(
      expect.objectContaining({ decisions: 2, approvals: 1, edits: 1, editRate: 0.5 }),
    );
    expect(alice.decisionTimeMs.median).toBe(4 * S);
    expect(alice.rubberStamping.flags.map((f) => f.taskId)).toEqual([big]);
    expect(alice.rubberStamping.flags[0].explanation).toContain('after claiming');
    const dave = reports.find((r) => r.reviewerId === 'dave')!;
    expect(dave).toEqual(expect.objectContaining({ decisions: 1, rejections: 1, overrideRate: 1 }));
    expect(dave.decisionTimeMs.median).toBe(10 * MIN + 4 * S); // from when the task opened
    // a period before any decision reports nobody
    expect(await new ReviewerAnalytics(h.store).report(ACME, { from: at(-S), to: START })).toEqual(
      [],
    );
  });
});
