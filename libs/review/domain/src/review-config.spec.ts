import { Verdict } from '@mandate/contracts';
import { ReviewConfigError } from './errors';
import { reviewConfig } from './review-config';
import { routeTask, validateRouting } from './routing';
import { slaPolicyFor, tierTimers, validateSla, type SlaPolicy } from './sla-config';
import { decisionFor, discount, email, HOUR, MIN, qualify } from './testing/fixtures';

describe('queue routing', () => {
  const routing = validateRouting({
    rules: [
      { actionType: 'apply_discount', team: 'deal-desk', skill: 'pricing' },
      {
        actionType: ['send_email', 'reply_to_case'],
        riskBand: ['high', 'critical'],
        team: 'comms',
        skill: 'communications',
      },
    ],
  });

  it('routes by action type (and risk band) with the first matching rule, else to the default team', () => {
    expect(
      routeTask(decisionFor('d1', { action: discount(10), riskBand: 'low' }), routing),
    ).toEqual({
      team: 'deal-desk',
      skill: 'pricing',
      actionType: 'apply_discount',
      riskBand: 'low',
    });
    expect(
      routeTask(decisionFor('d2', { action: email('hi'), riskBand: 'high' }), routing),
    ).toEqual(
      expect.objectContaining({ team: 'comms', skill: 'communications', actionType: 'send_email' }),
    );
    // a low-risk email matches no rule
    expect(routeTask(decisionFor('d3', { action: email('hi'), riskBand: 'low' }), routing)).toEqual(
      expect.objectContaining({ team: 'general', skill: '', riskBand: 'low' }),
    );
  });

  it('reads the risk band from the decision explanation ("unknown" when policy gave none)', () => {
    const d = decisionFor('d4', { action: qualify() });
    d.explanation = undefined;
    expect(routeTask(d, routing)).toEqual(
      expect.objectContaining({ riskBand: 'unknown', team: 'general' }),
    );
  });

  it('refuses team and skill names that are not names', () => {
    expect(() => validateRouting({ defaultTeam: 'Gen eral' })).toThrow(ReviewConfigError);
    expect(() => validateRouting({ rules: [{ team: 'ok', skill: '$where' }] })).toThrow(
      ReviewConfigError,
    );
  });
});

describe('SLA configuration', () => {
  it('defaults to two tiers (routed team 4 h, then supervisors 2 h), a 30 min warning and REJECT on expiry', () => {
    const sla = validateSla(undefined);
    const p = slaPolicyFor(sla, 'apply_discount', false);
    expect(p.onExpiry).toBe('reject');
    expect(p.tiers).toEqual([{ slaMs: 4 * HOUR }, { team: 'supervisors', slaMs: 2 * HOUR }]);
    const t = tierTimers(p, 0, new Date(0));
    expect(t.dueAt.getTime()).toBe(4 * HOUR);
    expect(t.warnAt.getTime()).toBe(4 * HOUR - 30 * MIN);
  });

  it('refuses, at load time, any expiry outcome but reject or expire: never silent approval', () => {
    for (const onExpiry of ['approve', 'APPROVE', 'auto', '', undefined])
      expect(() =>
        validateSla({
          default: { tiers: [{ slaMs: HOUR }], warnBeforeMs: 0, onExpiry: onExpiry as never },
        }),
      ).toThrow(/never end in approval/);
    expect(() =>
      reviewConfig({ sla: { byActionType: { qualify_lead: { onExpiry: 'approve' as never } } } }),
    ).toThrow(ReviewConfigError);
  });

  it('takes per-action-type overrides: qualify_lead may just expire', () => {
    const sla = validateSla({
      byActionType: { qualify_lead: { onExpiry: 'expire', tiers: [{ slaMs: HOUR }] } },
    });
    expect(slaPolicyFor(sla, 'qualify_lead', false)).toEqual(
      expect.objectContaining({ onExpiry: 'expire', tiers: [{ slaMs: HOUR }] }),
    );
    expect(slaPolicyFor(sla, 'apply_discount', false).onExpiry).toBe('reject');
  });

  it('makes post-hoc reviews expire without a rejection (the action already ran)', () => {
    expect(slaPolicyFor(validateSla(undefined), 'apply_discount', true).onExpiry).toBe('expire');
  });

  it('refuses tiers that cannot work', () => {
    const base: SlaPolicy = { tiers: [{ slaMs: HOUR }], warnBeforeMs: 0, onExpiry: 'reject' };
    const bad: Partial<SlaPolicy>[] = [
      { tiers: [] },
      { tiers: [{ slaMs: 0 }] },
      { tiers: [{ slaMs: HOUR }, { slaMs: HOUR }] }, // escalation tier without a team
      { tiers: [{ slaMs: HOUR, warnBeforeMs: HOUR }] }, // warning before the tier starts
      { warnBeforeMs: -1 },
    ];
    for (const b of bad)
      expect(() => validateSla({ default: { ...base, ...b } })).toThrow(ReviewConfigError);
  });

  it('validates the rest of the configuration', () => {
    expect(() => reviewConfig({ leaseMs: 0 })).toThrow(ReviewConfigError);
    expect(() => reviewConfig({ batch: { maxItems: 0 } })).toThrow(ReviewConfigError);
    expect(reviewConfig().batch).toEqual({ riskBands: ['low'], maxItems: 50 });
    expect(reviewConfig().leaseMs).toBe(15 * MIN);
    // Hand-offs go to the routing's default team unless configured; a bad name is refused.
    expect(reviewConfig().handoffTeam).toBe('general');
    expect(reviewConfig({ routing: { defaultTeam: 'desk' } }).handoffTeam).toBe('desk');
    expect(reviewConfig({ handoffTeam: 'service' }).handoffTeam).toBe('service');
    expect(reviewConfig(reviewConfig({ handoffTeam: 'service' })).handoffTeam).toBe('service');
    expect(() => reviewConfig({ handoffTeam: '' })).toThrow(ReviewConfigError);
  });

  it('keeps verdicts out of it (routing is by action and risk, not by verdict)', () => {
    const d = decisionFor('v', { verdict: Verdict.VERDICT_APPROVE_2, action: discount(20) });
    expect(routeTask(d, validateRouting(undefined)).team).toBe('general');
  });
});
